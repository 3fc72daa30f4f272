// Renders scripts/grafana/promshim.json with Grafana's own panel components
// (@grafana/ui's PanelChrome, TimeSeries and BigValue; @grafana/data's display
// processors and colour palettes) from a real Prometheus, so the dashboard can
// be looked at, and photographed by the test suite, on a machine that has no
// Grafana server (Debian 12 packages none).
//
// What it does as Grafana would: the grid (24 columns, 30 px rows, 8 px gaps),
// the $job/$instance variables from label_values(promshim_info, ...) with
// "All" selected, $__interval and $__rate_interval from the panel width and
// the data source's scrape interval, range queries with legendFormat, nulls
// where Prometheus has no sample, units, decimals and the classic palette.
// What it does not: editing, menus, annotations, links, alerting.
//
// URL parameters: dash (dashboard JSON, default promshim.json beside the page),
// prom (Prometheus base path, default /prom: the server in serve.py proxies it),
// from (seconds back from now, default 300), scrape (the data source's scrape
// interval in seconds, default 15), width (page width in px, default 1600).
// When every panel has drawn, <body> gets data-rendered="N" (N panels) and
// data-empty="titles of panels whose queries returned nothing".

import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  BigValue,
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GlobalStyles,
  PanelChrome,
  ThemeContext,
  TimeSeries,
} from '@grafana/ui';
import { createTheme, dateTime, FieldType, getDisplayProcessor, reduceField, ReducerID } from '@grafana/data';

const params = new URLSearchParams(window.location.search);
const PROM = params.get('prom') || './prom';
const DASH = params.get('dash') || './promshim.json';
const RANGE_S = Number(params.get('from') || 300);
const SCRAPE_S = Number(params.get('scrape') || 15);
const PAGE_W = Number(params.get('width') || 1600);

const CELL_H = 30;
const GAP = 8;
const theme = createTheme({ colors: { mode: 'dark' } });

// Grafana's custom field defaults for the time series panel, under what the
// dashboard sets.
const SERIES_DEFAULTS = {
  drawStyle: 'line', lineInterpolation: 'linear', lineWidth: 1, fillOpacity: 0,
  gradientMode: 'none', showPoints: 'auto', pointSize: 5, spanNulls: false,
  axisPlacement: 'auto', axisLabel: '', axisColorMode: 'text', axisBorderShow: false,
  axisCenteredZero: false, scaleDistribution: { type: 'linear' }, barAlignment: 0,
  stacking: { mode: 'none', group: 'A' }, insertNulls: false,
  hideFrom: { legend: false, tooltip: false, viz: false }, thresholdsStyle: { mode: 'off' },
};
const FIELD_DEFAULTS = {
  color: { mode: 'palette-classic' },
  thresholds: { mode: 'absolute', steps: [{ color: 'green', value: -Infinity }, { color: 'red', value: 80 }] },
};

/* Fetches JSON from the Prometheus HTTP API; throws on HTTP or API errors. */
async function prom(path, query) {
  const r = await fetch(`${PROM}${path}?${new URLSearchParams(query)}`);
  const body = await r.json();
  if (body.status !== 'success') throw new Error(`${path}: ${body.error || r.status}`);
  return body.data;
}

/* A Grafana multi-value "All" variable as its regex, (a|b), escaped as
 * Grafana's Prometheus data source escapes it: twice, once for the regex and
 * once for the PromQL string it stands in. */
function regexAll(values) {
  const esc = values.map((v) => v.replace(/[\\^$.*+?()[\]{}|]/g, '\\\\$&'));
  return esc.length ? `(${esc.join('|')})` : '.*';
}

/* The interval Grafana picks for a panel this many pixels wide, in seconds. */
function panelInterval(widthPx) {
  const raw = RANGE_S / Math.max(widthPx, 1);
  const nice = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600];
  const step = nice.find((n) => n >= raw) || 600;
  return Math.max(step, SCRAPE_S);
}

/* legendFormat's {{label}} filled from a series' labels. */
function legend(fmt, metric) {
  if (!fmt) {
    const ls = Object.entries(metric).filter(([k]) => k !== '__name__');
    return ls.length ? `{${ls.map(([k, v]) => `${k}="${v}"`).join(', ')}}` : 'Value';
  }
  return fmt.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, k) => metric[k] ?? '');
}

/* Runs a panel's targets and turns each series into a Grafana data frame:
 * a time field on the step grid and a number field, null where Prometheus
 * has no sample. */
async function panelFrames(panel, vars, widthPx, endS) {
  const step = panelInterval(widthPx);
  const startS = endS - RANGE_S;
  const subst = {
    $__rate_interval: `${Math.max(step + SCRAPE_S, 4 * SCRAPE_S)}s`,
    $__interval: `${step}s`,
    $__range: `${RANGE_S}s`,
    $job: vars.job,
    $instance: vars.instance,
  };
  const frames = [];
  let seriesIndex = 0;
  for (const t of panel.targets || []) {
    let expr = t.expr;
    for (const k of Object.keys(subst).sort((a, b) => b.length - a.length)) expr = expr.split(k).join(subst[k]);
    const data = await prom('/api/v1/query_range', { query: expr, start: startS, end: endS, step });
    for (const s of data.result) {
      const times = [];
      const values = [];
      const have = new Map(s.values.map(([ts, v]) => [Math.round(ts), Number(v)]));
      for (let ts = startS; ts <= endS; ts += step) {
        times.push(ts * 1000);
        const v = have.get(Math.round(ts));
        values.push(v === undefined || !Number.isFinite(v) ? null : v);
      }
      const config = {
        ...FIELD_DEFAULTS,
        ...panel.fieldConfig?.defaults,
        custom: { ...SERIES_DEFAULTS, ...panel.fieldConfig?.defaults?.custom },
        displayNameFromDS: legend(t.legendFormat, s.metric),
      };
      const valueField = { name: 'Value', type: FieldType.number, values, labels: s.metric, config, state: { seriesIndex } };
      seriesIndex += 1;
      valueField.display = getDisplayProcessor({ field: valueField, theme });
      const timeField = { name: 'Time', type: FieldType.time, values: times, config: { interval: step * 1000 } };
      timeField.display = getDisplayProcessor({ field: timeField, theme });
      frames.push({ refId: t.refId, name: config.displayNameFromDS, length: times.length, fields: [timeField, valueField] });
    }
  }
  return frames;
}

/* One stat panel: BigValue per series, reduced to the last non-null value. */
function Stat({ frames, panel, width, height }) {
  const o = panel.options || {};
  const n = Math.max(frames.length, 1);
  return (
    <div style={{ display: 'flex', width, height }}>
      {frames.map((f) => {
        const field = f.fields[1];
        const calcs = reduceField({ field, reducers: [ReducerID.lastNotNull] });
        const value = field.display(calcs[ReducerID.lastNotNull]);
        if (frames.length > 1) value.title = field.config.displayNameFromDS;
        return (
          <BigValue
            key={f.name}
            width={width / n}
            height={height}
            theme={theme}
            value={value}
            sparkline={{ x: f.fields[0], y: field }}
            colorMode={o.colorMode || BigValueColorMode.Value}
            graphMode={o.graphMode || BigValueGraphMode.Area}
            justifyMode={o.justifyMode || BigValueJustifyMode.Auto}
            textMode={o.textMode || BigValueTextMode.Auto}
          />
        );
      })}
    </div>
  );
}

/* One panel at its grid position: fetches, then draws with Grafana's chrome. */
function Panel({ panel, vars, colW, endS, onDone }) {
  const g = panel.gridPos;
  const width = g.w * colW + (g.w - 1) * GAP;
  const height = g.h * CELL_H + (g.h - 1) * GAP;
  const [state, setState] = useState({ frames: null, error: null });
  useEffect(() => {
    panelFrames(panel, vars, width, endS)
      .then((frames) => setState({ frames, error: null }))
      .catch((e) => setState({ frames: [], error: String(e) }));
  }, [panel, vars, width, endS]);
  useEffect(() => {
    if (state.frames) onDone(panel, state.frames.length, state.error);
  }, [state, panel, onDone]);
  const style = { position: 'absolute', left: g.x * (colW + GAP), top: g.y * (CELL_H + GAP), width, height };
  const tr = { from: dateTime((endS - RANGE_S) * 1000), to: dateTime(endS * 1000) };
  tr.raw = { from: `now-${RANGE_S}s`, to: 'now' };
  return (
    <div style={style}>
      <PanelChrome width={width} height={height} title={panel.title} description={panel.description}
        statusMessage={state.error || undefined} loadingState={state.frames ? 'Done' : 'Loading'}>
        {(w, h) => {
          if (!state.frames) return null;
          if (!state.frames.length) return <div style={{ color: theme.colors.text.secondary, padding: 8 }}>No data</div>;
          if (panel.type === 'stat') return <Stat frames={state.frames} panel={panel} width={w} height={h} />;
          return (
            <TimeSeries frames={state.frames} width={w} height={h} timeRange={tr} timeZone="utc"
              legend={{ showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [], ...panel.options?.legend }}
              options={panel.options} />
          );
        }}
      </PanelChrome>
    </div>
  );
}

/* A row header, drawn the way Grafana draws an expanded row. */
function Row({ panel, colW }) {
  const g = panel.gridPos;
  const style = {
    position: 'absolute', left: 0, top: g.y * (CELL_H + GAP), width: 24 * colW + 23 * GAP, height: CELL_H,
    color: theme.colors.text.primary, font: `500 ${theme.typography.h5.fontSize} ${theme.typography.fontFamily}`,
    display: 'flex', alignItems: 'center',
  };
  return <div style={style}>⌄ {panel.title}</div>;
}

function Dashboard() {
  const [dash, setDash] = useState(null);
  const [vars, setVars] = useState(null);
  const [error, setError] = useState(null);
  const [endS] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    (async () => {
      const d = await (await fetch(DASH)).json();
      const jobs = await prom('/api/v1/label/job/values', { 'match[]': 'promshim_info' });
      const inst = await prom('/api/v1/label/instance/values', { 'match[]': `promshim_info{job=~"${regexAll(jobs)}"}` });
      setVars({ job: regexAll(jobs), instance: regexAll(inst), jobs, inst });
      setDash(d);
    })().catch((e) => setError(String(e)));
  }, []);
  const [done] = useState(() => new Map());
  const onDone = (panel, nframes, err) => {
    done.set(panel.id, { title: panel.title, nframes, err });
    const want = dash.panels.filter((p) => p.type !== 'row').length;
    if (done.size === want) {
      const empty = [...done.values()].filter((x) => x.nframes === 0).map((x) => x.title);
      const errors = [...done.values()].filter((x) => x.err).map((x) => `${x.title}: ${x.err}`);
      document.body.dataset.empty = empty.join('|');
      document.body.dataset.errors = errors.join('|');
      // let uPlot lay out before the screenshot is taken
      setTimeout(() => { document.body.dataset.rendered = String(want); }, 500);
    }
  };
  if (error) return <pre id="error" style={{ color: 'red' }}>{error}</pre>;
  if (!dash || !vars) return null;
  const colW = (PAGE_W - 2 * GAP - 23 * GAP) / 24;
  const bottom = Math.max(...dash.panels.map((p) => p.gridPos.y + p.gridPos.h));
  const t = theme.typography;
  return (
    <ThemeContext.Provider value={theme}>
      <GlobalStyles />
      <div style={{ background: theme.colors.background.canvas, color: theme.colors.text.primary, fontFamily: t.fontFamily, width: PAGE_W }}>
        <div style={{ display: 'flex', gap: 16, alignItems: 'center', padding: `12px ${GAP}px`, fontSize: t.body.fontSize }}>
          <span style={{ fontSize: t.h4.fontSize, fontWeight: 500 }}>{dash.title}</span>
          <span>Job: <b>All</b> ({vars.jobs.join(', ')})</span>
          <span>Instance: <b>All</b> ({vars.inst.length})</span>
          <span style={{ marginLeft: 'auto', color: theme.colors.text.secondary }}>
            Last {RANGE_S % 60 ? `${RANGE_S} seconds` : `${RANGE_S / 60} minutes`}, UTC
          </span>
        </div>
        <div style={{ position: 'relative', margin: `0 ${GAP}px`, height: bottom * (CELL_H + GAP) }}>
          {dash.panels.map((p) => (p.type === 'row'
            ? <Row key={p.id} panel={p} colW={colW} />
            : <Panel key={p.id} panel={p} vars={vars} colW={colW} endS={endS} onDone={onDone} />))}
        </div>
      </div>
    </ThemeContext.Provider>
  );
}

createRoot(document.getElementById('root')).render(<Dashboard />);
