#!/usr/bin/env bats
# The TOML parser (shim/toml.c), through build/unit/test_toml: our own unit
# tests, the public toml-test conformance suite (its TOML 1.0 case list)
# and the toml-test decoder interface.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

setup() {
    REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
    BIN="$REPO/build/unit/test_toml"
    [ -x "$BIN" ] || fail "$BIN not built (run make)"
}

@test "toml: unit tests (settings file, every value type, structure, error positions, float rounding, arena)" {
    run "$BIN" --unit
    assert_success
    assert_output --partial ", 0 failed"
}

@test "toml: toml-test conformance suite, TOML 1.0 cases (valid parsed exactly, invalid refused)" {
    export TOML_TEST_DIR="$REPO/../shared/conformance/toml-test"
    [ -f "$TOML_TEST_DIR/tests/files-toml-1.0.0" ] ||
        skip "toml-test suite not found at $TOML_TEST_DIR (tests/files-toml-1.0.0 missing)"
    run "$BIN" --suite
    assert_success
    # every case passed and none was set aside as unsupported
    assert_output --regexp 'valid: ([0-9]+)/\1 passed, invalid: ([0-9]+)/\2 refused, unsupported: 0 '
}

@test "toml: decoder prints tagged JSON, refuses a bad document with line and column" {
    run bash -c "printf 'a.\"b.c\" = [1, 2.5, \"x\"]\n[t]\nd = 1979-05-27 07:32:00Z\n' | '$BIN' --decode"
    assert_success
    assert_output '{"a":{"b.c":[{"type":"integer","value":"1"},{"type":"float","value":"2.5"},{"type":"string","value":"x"}]},"t":{"d":{"type":"datetime","value":"1979-05-27T07:32:00Z"}}}'

    run bash -c "printf 'ok = 1\n[t]\nx = 1\n[t]\n' | '$BIN' --decode"
    assert_failure 1
    assert_output 'line 4, column 2: table defined twice'
}
