/* `ctix serve`: the TAXII 2.1 server in the foreground until SIGTERM or SIGINT.
 *
 * The signals are blocked before any thread starts, so every libmicrohttpd thread inherits the
 * mask and only the main thread, waiting in sigwait(), ever sees them: shutdown then runs as
 * ordinary code (stop the daemon, which lets running requests finish; free taxii; close the
 * store), never inside a signal handler. */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "prov/prov.h"
#include "sync/sync.h"
#include "taxii/taxii.h"

#define SERVE_MAX_CONTENT_DEFAULT (16u * 1024 * 1024)
#define SERVE_MAX_CONTENT_MAX     (1024u * 1024 * 1024)
#define SERVE_THREADS_MAX         256
#define SERVE_API_ROOT            "api"
#define SERVE_MAX_PAGE            1000
#define SERVE_DEFAULT_PAGE        100

static const struct cli_opt opts[] = {
    {"data", CLI_OPT_VALUE},
    {"listen", CLI_OPT_VALUE},
    {"tls-cert", CLI_OPT_VALUE},
    {"tls-key", CLI_OPT_VALUE},
    {"insecure", CLI_OPT_FLAG},
    {"threads", CLI_OPT_VALUE},
    {"max-content-length", CLI_OPT_VALUE},
    {"body-budget", CLI_OPT_VALUE},
    {"title", CLI_OPT_VALUE},
    {"sync-interval", CLI_OPT_VALUE},
    {"unmarked-tlp", CLI_OPT_VALUE},
};

#define SERVE_SYNC_INTERVAL_MAX 86400.0

/* --sync-interval SECONDS: a decimal number of seconds, 0.01 to a day. */
static bool interval_parse(const char *v, int64_t *out_us)
{
    char *end = NULL;
    double sec;

    errno = 0;
    sec = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(sec >= 0.01 && sec <= SERVE_SYNC_INTERVAL_MAX))
        return false;
    *out_us = (int64_t)(sec * 1e6);
    return true;
}

/* The node's identity and its audit log, from the data directory. A node initialised before
 * keys existed gets one now (logged: its public key must reach the peers). */
static int node_open(const char *dir, struct store *st, struct sync_node *node)
{
    struct ctix_diag d;
    enum ctix_rc rc;
    int ret = CLI_EXIT_FAIL;

    ctix_diag_clear(&d);
    rc = sync_node_load(node, st, &d);
    if (rc != CTIX_OK) {
        cli_error("serve", "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    ctix_diag_clear(&d);
    rc = prov_key_load(dir, &node->key, &d);
    if (rc == CTIX_ENOTFOUND) {
        char pub[PROV_PUBKEY_TEXT];

        rc = prov_key_generate(&node->key);
        if (rc == CTIX_OK)
            rc = prov_key_save(node->key, dir, &d);
        if (rc == CTIX_OK) {
            prov_pubkey_format(prov_key_public(node->key), pub);
            ctix_log(CTIX_LOG_WARN, "cli", "event=node_key_created pubkey=%s", pub);
        }
    }
    if (rc != CTIX_OK) {
        cli_error("serve", "node key: %s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    ctix_diag_clear(&d);
    rc = prov_audit_open(dir, &node->audit, &d);
    if (rc != CTIX_OK) {
        cli_error("serve", "audit log: %s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    prov_audit_set_key(node->audit, node->key);
    ret = CLI_EXIT_OK;
out:
    return ret;
}

int cmd_serve(int argc, char **argv)
{
    struct cli_args a;
    struct http_config hc;
    struct taxii_config tc;
    struct store *st = NULL;
    struct taxii_server *taxii = NULL;
    struct http_server *http = NULL;
    struct sync_node node_info;
    struct sync_opts so;
    struct sync_runner *runner = NULL;
    enum stix_tlp unmarked = STIX_TLP_NONE; /* policy/'s default: AMBER */
    struct ctix_diag d;
    sigset_t sigs;
    char err[256], host[HTTP_HOST_MAX], node[STORE_NAME_MAX], title[STORE_NAME_MAX + 16];
    const char *dir, *listen, *v;
    uint64_t n;
    uint16_t port;
    int sig = 0, ret = CLI_EXIT_USAGE;
    enum ctix_rc rc;

    memset(&hc, 0, sizeof(hc));
    memset(&tc, 0, sizeof(tc));
    memset(&node_info, 0, sizeof(node_info));
    memset(&so, 0, sizeof(so));
    so.interval_us = 1000000;
    ctix_diag_clear(&d);
    if (cli_args_parse(opts, CTIX_ARRAY_LEN(opts), argc, argv, &a, err, sizeof(err)) != CTIX_OK) {
        ret = cli_usage_error("serve", "%s", err);
        goto out;
    }
    dir = cli_data_dir(&a);
    listen = cli_args_get(&a, "listen");
    if (dir == NULL || listen == NULL) {
        ret = cli_usage_error("serve", "missing %s",
                              dir == NULL ? "--data DIR" : "--listen HOST:PORT");
        goto out;
    }
    if (a.n_pos != 0) {
        ret = cli_usage_error("serve", "unexpected argument '%s'", a.pos[0]);
        goto out;
    }
    if (http_listen_parse(listen, host, &port, &d) != CTIX_OK) {
        ret = cli_usage_error("serve", "--listen %s", d.msg);
        goto out;
    }
    hc.host = host;
    hc.port = port;
    hc.tls_cert_file = cli_args_get(&a, "tls-cert");
    hc.tls_key_file = cli_args_get(&a, "tls-key");
    if ((hc.tls_cert_file == NULL) != (hc.tls_key_file == NULL)) {
        ret = cli_usage_error("serve", "--tls-cert and --tls-key go together");
        goto out;
    }
    if (hc.tls_cert_file == NULL && !http_host_is_loopback(host) && !cli_args_has(&a, "insecure")) {
        ret = cli_usage_error("serve",
                              "refusing plain HTTP on non-loopback address %s: API keys would "
                              "cross the network in clear; give --tls-cert and --tls-key, or "
                              "--insecure if a TLS proxy sits in front",
                              host);
        goto out;
    }
    v = cli_args_get(&a, "threads");
    if (v != NULL) {
        if (!ctix_parse_u64(v, SERVE_THREADS_MAX, &n) || n == 0) {
            ret = cli_usage_error("serve", "--threads: a number from 1 to %d", SERVE_THREADS_MAX);
            goto out;
        }
        hc.threads = (unsigned)n;
    }
    tc.max_content_length = SERVE_MAX_CONTENT_DEFAULT;
    v = cli_args_get(&a, "max-content-length");
    if (v != NULL) {
        if (!ctix_parse_u64(v, SERVE_MAX_CONTENT_MAX, &n) || n == 0) {
            ret = cli_usage_error("serve", "--max-content-length: a number of bytes from 1 to %u",
                                  SERVE_MAX_CONTENT_MAX);
            goto out;
        }
        tc.max_content_length = (size_t)n;
    }
    v = cli_args_get(&a, "body-budget");
    if (v != NULL) {
        if (!ctix_parse_u64(v, SIZE_MAX / 2, &n) || n == 0) {
            ret = cli_usage_error("serve", "--body-budget: a positive number of bytes");
            goto out;
        }
        hc.body_budget = (size_t)n;
    }
    v = cli_args_get(&a, "sync-interval");
    if (v != NULL && !interval_parse(v, &so.interval_us)) {
        ret = cli_usage_error("serve", "--sync-interval: a number of seconds from 0.01 to %.0f",
                              SERVE_SYNC_INTERVAL_MAX);
        goto out;
    }
    v = cli_args_get(&a, "unmarked-tlp");
    if (v != NULL && (!policy_tlp_parse(v, &unmarked) || unmarked == STIX_TLP_NONE)) {
        ret = cli_usage_error("serve", "--unmarked-tlp: clear, green, amber, amber+strict or red");
        goto out;
    }
    v = cli_args_get(&a, "title");
    if (v != NULL && !cli_name_valid(v)) {
        ret = cli_usage_error("serve", "--title: 1 to %d characters without control characters",
                              STORE_NAME_MAX - 1);
        goto out;
    }

    ret = cli_store_open("serve", dir, &st);
    if (ret != CLI_EXIT_OK)
        goto out;
    ret = node_open(dir, st, &node_info);
    if (ret != CLI_EXIT_OK)
        goto out;
    node_info.policy.unmarked = unmarked;
    ret = CLI_EXIT_FAIL;
    if (v != NULL)
        ctix_strlcpy(title, v, sizeof(title));
    else if (store_meta_get(st, "node_org", node, sizeof(node)) == CTIX_OK)
        snprintf(title, sizeof(title), "ctix node %s", node);
    else
        ctix_strlcpy(title, "ctix node", sizeof(title));
    tc.title = title;
    tc.api_root = SERVE_API_ROOT;
    tc.max_page = SERVE_MAX_PAGE;
    tc.default_page = SERVE_DEFAULT_PAGE;
    /* Two seconds: `ctix key revoke` and `ctix grant --revoke` bite within that. */
    tc.cache_ttl_us = 2000000;
    tc.node = &node_info;
    rc = taxii_server_new(st, &tc, &taxii);
    if (rc != CTIX_OK) {
        cli_error("serve", "cannot set up the TAXII server: %s", ctix_strerror(rc));
        goto out;
    }

    /* Before any thread exists (see the top of this file). A client that hangs up mid-response
     * must not kill the process either. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0) {
        cli_error("serve", "cannot block signals");
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);

    rc = http_server_start(&hc, taxii, &http, &d);
    if (rc != CTIX_OK) {
        cli_error("serve", "%s", d.msg[0] != '\0' ? d.msg : ctix_strerror(rc));
        goto out;
    }
    rc = sync_runner_start(&node_info, &so, &runner);
    if (rc != CTIX_OK) {
        cli_error("serve", "cannot start sync with peers: %s", ctix_strerror(rc));
        goto out;
    }
    port = http_server_port(http);
    printf("ctix: listening on %s://%s%s%s:%u/taxii2/\n",
           hc.tls_cert_file != NULL ? "https" : "http", strchr(host, ':') != NULL ? "[" : "", host,
           strchr(host, ':') != NULL ? "]" : "", (unsigned)port);
    if (fflush(stdout) != 0) {
        cli_error("serve", "cannot write to stdout");
        goto out;
    }
    ctix_log(CTIX_LOG_INFO, "cli", "serving host=%s port=%u tls=%s data=%s", host, (unsigned)port,
             hc.tls_cert_file != NULL ? "yes" : "no", dir);
    if (sigwait(&sigs, &sig) != 0)
        sig = SIGTERM; /* only EINVAL, which the set above rules out */
    ctix_log(CTIX_LOG_INFO, "cli", "stopping signal=%s", sig == SIGINT ? "INT" : "TERM");
    ret = CLI_EXIT_OK;
out:
    http_server_stop(http);
    sync_runner_stop(runner);
    taxii_server_free(taxii);
    prov_audit_close(node_info.audit);
    prov_key_free(node_info.key);
    store_close(st);
    if (ret == CLI_EXIT_OK)
        ctix_log(CTIX_LOG_INFO, "cli", "stopped");
    cli_args_cleanup(&a);
    return ret;
}
