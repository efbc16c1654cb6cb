/* cli: the `ctix` command. main.c holds the table of sub-commands and the help texts; each
 * sub-command lives in cmd_<name>.c as `int cmd_<name>(int argc, char **argv)` where argv[0] is
 * the sub-command's name. cli/ is the only module that prints to a terminal: results go to stdout,
 * errors to stderr through cli_error()/cli_error_file() (the one place that formats them), logs
 * through ctix_log().
 *
 * Exit codes: CLI_EXIT_OK (0) success, CLI_EXIT_FAIL (1) runtime failure, CLI_EXIT_USAGE (2) the
 * command line is wrong (unknown option, missing argument). */
#ifndef CTIX_CLI_H
#define CTIX_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"
#include "store/store.h"

#define CTIX_VERSION "0.1.0"

enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

/* ---- sub-commands (rows of the table in main.c) ---- */
int cmd_init(int argc, char **argv);
int cmd_org(int argc, char **argv);
int cmd_collection(int argc, char **argv);
int cmd_grant(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_demo_data(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_scan(int argc, char **argv);

/* ---- errors: the one place that formats them ---- */

/* Prints "ctix CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) CTIX_PRINTF(2, 3);
/* Prints "FILE:LINE:COL: message", "FILE:LINE: message" or "FILE: message" (line/col 0 = unknown)
 * on stderr. */
void cli_error_file(const char *file, unsigned line, unsigned col, const char *fmt, ...)
    CTIX_PRINTF(4, 5);
/* Prints "ctix CMD: message" and the command's usage line(s), returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CTIX_PRINTF(2, 3);
/* The usage text cli_usage_error() prints; main.c sets it from its table before dispatching. */
void cli_usage_set(const char *usage);

/* ---- the option parser shared by every sub-command ----
 * Long options only: "--name VALUE", "--name=VALUE", flags "--name", repeatable lists. "--" ends
 * the options; "-" alone is a positional argument (stdin). "--help" and "-h" set help. A value
 * given as a separate word may not start with "--" (so that a missing value is caught); the
 * "--name=VALUE" form takes any value. */
enum cli_opt_kind {
    CLI_OPT_FLAG,  /* --name; repeating it is harmless */
    CLI_OPT_VALUE, /* --name VALUE, at most once */
    CLI_OPT_LIST,  /* --name VALUE, any number of times, kept in order */
};

struct cli_opt {
    const char *name; /* without the leading "--" */
    enum cli_opt_kind kind;
};

#define CLI_OPTS_MAX 24

struct cli_args {
    const struct cli_opt *opts;
    size_t n_opts;
    bool present[CLI_OPTS_MAX];
    const char *value[CLI_OPTS_MAX]; /* CLI_OPT_VALUE: the value */
    const char **list[CLI_OPTS_MAX]; /* CLI_OPT_LIST: values in order (malloc) */
    size_t n_list[CLI_OPTS_MAX];
    const char **pos; /* positional arguments in order (malloc) */
    size_t n_pos;
    bool help;
};

/* Parses argv[1..argc) against opts (n_opts <= CLI_OPTS_MAX). On CTIX_EINVAL err holds a message
 * such as "unknown option --foo"; CTIX_ENOMEM when out of memory. Strings are borrowed from argv.
 * cli_args_cleanup() always. */
CTIX_MUST_CHECK enum ctix_rc cli_args_parse(const struct cli_opt *opts, size_t n_opts, int argc,
                                            char **argv, struct cli_args *out, char *err,
                                            size_t errlen);
void cli_args_cleanup(struct cli_args *a);
/* The value of a CLI_OPT_VALUE option, NULL when absent (or when name is not in opts). */
const char *cli_args_get(const struct cli_args *a, const char *name);
/* Whether a flag (or any option) was given. */
bool cli_args_has(const struct cli_args *a, const char *name);
/* The values of a CLI_OPT_LIST option; returns their count. */
size_t cli_args_list(const struct cli_args *a, const char *name, const char *const **out);

/* ---- helpers shared by sub-commands ---- */

/* --data, else $CTIX_DATA, else NULL. */
const char *cli_data_dir(const struct cli_args *a);
/* The start of a command with sub-commands (`ctix org add …`): picks argv[1] among subs
 * (NULL-terminated), parses the rest against opts into *a and requires a data directory (*dir).
 * Returns the index of the sub-command in subs, or -1 after printing the usage error (the
 * command then exits CLI_EXIT_USAGE). cli_args_cleanup(a) in every case. */
int cli_subcommand_begin(const char *cmd, const char *const *subs, const struct cli_opt *opts,
                         size_t n_opts, int argc, char **argv, struct cli_args *a,
                         const char **dir);
/* Opens the store of an initialised data directory; prints the error and returns CLI_EXIT_FAIL
 * when it cannot. */
int cli_store_open(const char *cmd, const char *dir, struct store **out);
/* A name (organisation, key label, title) is 1..STORE_NAME_MAX-1 bytes without control
 * characters. */
bool cli_name_valid(const char *s);
/* Makes the node key (DIR/node.key) and an empty audit log, then prints "pubkey: KEY". An existing
 * key is kept when keep is true (and printed), refused otherwise: a key is the node's identity,
 * never replaced. Prints errors as cmd; returns CLI_EXIT_OK or CLI_EXIT_FAIL. */
int cli_node_key_create(const char *cmd, const char *dir, bool keep);
/* Stores text[0..len) (a bundle of this node's own objects) into collection coll through the
 * import path: validated, signed with the node key, audited; prints a summary labelled label on
 * stderr. CLI_EXIT_OK, or CLI_EXIT_FAIL after printing why. */
int cli_import_text(const char *cmd, const char *dir, struct store *st, const char *coll,
                    const char *label, const char *text, size_t len);
/* "2024-05-01T10:00:00Z" (seconds precision) into out[21]. */
void cli_time_format(int64_t us, char out[21]);

#endif
