/*
 * push.c - the final metrics of a short job to a Prometheus Pushgateway at
 * exit: PUT {url}/metrics/job/{job}/instance/{host}. Plain HTTP/1.1 over a
 * non-blocking socket, every step bounded by what is left of
 * pushgateway_timeout_ms, so a missing gateway never delays the program's
 * exit by more than that. The host must be an IP address or "localhost"
 * (no name lookup at exit: it could block past the bound).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/exporter.h"
#include "shim/config.h"
#include "shim/real.h"
#include "shim/shim.h"

/* parse_url: http://HOST[:PORT][/PATH] into sa and path. 0 or -EINVAL */
static int parse_url(const char *url, struct sockaddr_storage *ss, socklen_t *sl, char *path, size_t ps)
{
    if (strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *h = url + 7, *end;
    char host[128];
    int port = 80;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || (size_t)(end - h - 1) >= sizeof(host))
            return -EINVAL;
        memcpy(host, h + 1, (size_t)(end - h - 1));
        host[end - h - 1] = '\0';
        end++;
    } else {
        end = h + strcspn(h, ":/");
        if ((size_t)(end - h) >= sizeof(host))
            return -EINVAL;
        memcpy(host, h, (size_t)(end - h));
        host[end - h] = '\0';
    }
    if (*end == ':') {
        port = atoi(end + 1);
        end += 1 + strspn(end + 1, "0123456789");
    }
    if (port <= 0 || port > 65535)
        return -EINVAL;
    shim_snprintf(path, ps, "%s", *end == '/' ? end : "");
    size_t pl = strlen(path);
    if (pl && path[pl - 1] == '/')
        path[pl - 1] = '\0';
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *sl = sizeof(*in);
    } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *sl = sizeof(*in6);
    } else {
        return -EINVAL;
    }
    return 0;
}

/* left_ms: milliseconds left until deadline_ns */
static int left_ms(uint64_t deadline)
{
    uint64_t now = shim_now_ns();
    return now >= deadline ? 0 : (int)((deadline - now) / 1000000u) + 1;
}

/* wait_fd: poll fd for events until the deadline; 0 ready, -ETIMEDOUT */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    int ms = left_ms(deadline);
    if (!ms)
        return -ETIMEDOUT;
    int r = poll(&p, 1, ms);
    return r > 0 ? 0 : r == 0 ? -ETIMEDOUT : -errno;
}

/* send_all: the whole buffer, before the deadline */
static int send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
    while (n) {
        ssize_t w = real.send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            int rc = wait_fd(fd, POLLOUT, deadline);
            if (rc)
                return rc;
        } else {
            return -errno;
        }
    }
    return 0;
}

int shim_push(void)
{
    const char *url = shim_cfg.pushgateway_url;
    if (!url[0])
        return 0;
    uint64_t deadline = shim_now_ns() + (uint64_t)shim_cfg.pushgateway_timeout_ms * 1000000u;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    char path[256], host[128] = "localhost";
    int rc = 0, fd = -1;
    struct shim_buf body = {0}, head = {0};
    if (parse_url(url, &ss, &sl, path, sizeof(path)) != 0) {
        LOG_ERROR("PROMSHIM_PUSHGATEWAY_URL=\"%s\" is not http://IP[:PORT][/PATH]; nothing pushed", url);
        return -EINVAL;
    }
    gethostname(host, sizeof(host) - 1);
    const char *job = shim_cfg.job[0] ? shim_cfg.job : shim_program;
    shim_expfmt_render(&body, 0);
    shim_buf_printf(&head, "PUT %s/metrics/job/%s/instance/%s HTTP/1.1\r\nHost: pushgateway\r\n"
                           "Content-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                    path, job && *job ? job : "promshim", host, body.len);
    if (body.oom || head.oom) {
        rc = -ENOMEM;
        goto out;
    }
    fd = real.socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    if (real.connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (errno != EINPROGRESS) {
            rc = -errno;
            goto out;
        }
        int err = 0;
        socklen_t el = sizeof(err);
        if ((rc = wait_fd(fd, POLLOUT, deadline)) != 0)
            goto out;
        if (real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
            rc = -(err ? err : errno);
            goto out;
        }
    }
    if ((rc = send_all(fd, head.p, head.len, deadline)) != 0 || (rc = send_all(fd, body.p, body.len, deadline)) != 0)
        goto out;
    char reply[64];
    size_t got = 0;
    while (got < 12) { /* "HTTP/1.1 200" */
        ssize_t r = real.recv(fd, reply + got, sizeof(reply) - 1 - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((rc = wait_fd(fd, POLLIN, deadline)) != 0)
                goto out;
        } else {
            rc = -EPROTO;
            goto out;
        }
    }
    reply[got] = '\0';
    if (reply[9] != '2')
        rc = -EPROTO;
out:
    if (fd >= 0)
        real.close(fd);
    if (rc)
        LOG_ERROR("push to %s failed (%s)", url,
                  rc == -ETIMEDOUT ? "timed out" : rc == -EPROTO ? "the gateway refused it" : "cannot connect");
    shim_buf_free(&body);
    shim_buf_free(&head);
    return rc;
}
