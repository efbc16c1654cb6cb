/* The STIX 2.1 SCO definitions PATTERN_STRICT checks paths and operands against: the 18 SCO types
 * of the specification (§6) with their properties, the embedded object types (MIME parts,
 * registry values, PE sections…) and the predefined extensions. One static table, walked step by
 * step along an object path. Where the data model is open the walk stops checking: dictionary
 * values, custom properties ("x_"), custom types ("x-"), custom extensions, and anything reached
 * through a *_ref / *_refs (which may point to any SCO). */
#include <stdio.h>
#include <string.h>

#include "pattern/pattern_int.h"

enum sco_t {
    T_ANY, /* open: nothing is checked from here on */
    T_STR,
    T_INT,
    T_FLOAT,
    T_BOOL,
    T_TS,
    T_BIN,
    T_HEX,
    T_LIST,   /* of elem (and sub when elem is T_OBJ) */
    T_DICT,   /* any keys, any values */
    T_HASHES, /* any keys, string values */
    T_OBJ,    /* known keys: sub */
    T_REF,
    T_REFS,
    T_EXT, /* the extensions dictionary of the type */
};

struct sco_prop {
    const char *name;
    enum sco_t type;
    enum sco_t elem;
    const struct sco_prop *sub;
};

struct sco_ext {
    const char *name;
    const struct sco_prop *props;
};

struct sco_type {
    const char *name;
    const struct sco_prop *props;
    const struct sco_ext *exts;
};

#define P(n, t)                                                                                    \
    {                                                                                              \
        n, t, T_ANY, NULL                                                                          \
    }
#define L(n, e)                                                                                    \
    {                                                                                              \
        n, T_LIST, e, NULL                                                                         \
    }
#define LO(n, s)                                                                                   \
    {                                                                                              \
        n, T_LIST, T_OBJ, s                                                                        \
    }
#define O(n, s)                                                                                    \
    {                                                                                              \
        n, T_OBJ, T_ANY, s                                                                         \
    }
#define END                                                                                        \
    {                                                                                              \
        NULL, T_ANY, T_ANY, NULL                                                                   \
    }

static const struct sco_prop common[] = {
    P("type", T_STR),
    P("id", T_STR),
    P("spec_version", T_STR),
    L("object_marking_refs", T_STR),
    L("granular_markings", T_ANY),
    P("defanged", T_BOOL),
    P("extensions", T_EXT),
    END,
};

static const struct sco_prop artifact[] = {
    P("mime_type", T_STR),
    P("payload_bin", T_BIN),
    P("url", T_STR),
    P("hashes", T_HASHES),
    P("encryption_algorithm", T_STR),
    P("decryption_key", T_STR),
    END,
};
static const struct sco_prop autonomous_system[] = {P("number", T_INT), P("name", T_STR),
                                                    P("rir", T_STR), END};
static const struct sco_prop directory[] = {
    P("path", T_STR),
    P("path_enc", T_STR),
    P("ctime", T_TS),
    P("mtime", T_TS),
    P("atime", T_TS),
    P("contains_refs", T_REFS),
    END,
};
static const struct sco_prop domain_name[] = {P("value", T_STR), P("resolves_to_refs", T_REFS),
                                              END};
static const struct sco_prop email_addr[] = {P("value", T_STR), P("display_name", T_STR),
                                             P("belongs_to_ref", T_REF), END};
static const struct sco_prop mime_part[] = {
    P("body", T_STR),
    P("body_raw_ref", T_REF),
    P("content_type", T_STR),
    P("content_disposition", T_STR),
    END,
};
static const struct sco_prop email_message[] = {
    P("is_multipart", T_BOOL),  P("date", T_TS),
    P("content_type", T_STR),   P("from_ref", T_REF),
    P("sender_ref", T_REF),     P("to_refs", T_REFS),
    P("cc_refs", T_REFS),       P("bcc_refs", T_REFS),
    P("message_id", T_STR),     P("subject", T_STR),
    L("received_lines", T_STR), P("additional_header_fields", T_DICT),
    P("body", T_STR),           LO("body_multipart", mime_part),
    P("raw_email_ref", T_REF),  END,
};
static const struct sco_prop file[] = {
    P("hashes", T_HASHES),
    P("size", T_INT),
    P("name", T_STR),
    P("name_enc", T_STR),
    P("magic_number_hex", T_HEX),
    P("mime_type", T_STR),
    P("ctime", T_TS),
    P("mtime", T_TS),
    P("atime", T_TS),
    P("parent_directory_ref", T_REF),
    P("contains_refs", T_REFS),
    P("content_ref", T_REF),
    END,
};
static const struct sco_prop ip_addr[] = {P("value", T_STR), P("resolves_to_refs", T_REFS),
                                          P("belongs_to_refs", T_REFS), END};
static const struct sco_prop mac_addr[] = {P("value", T_STR), END};
static const struct sco_prop mutex[] = {P("name", T_STR), END};
static const struct sco_prop network_traffic[] = {
    P("start", T_TS),
    P("end", T_TS),
    P("is_active", T_BOOL),
    P("src_ref", T_REF),
    P("dst_ref", T_REF),
    P("src_port", T_INT),
    P("dst_port", T_INT),
    L("protocols", T_STR),
    P("src_byte_count", T_INT),
    P("dst_byte_count", T_INT),
    P("src_packets", T_INT),
    P("dst_packets", T_INT),
    P("ipfix", T_DICT),
    P("src_payload_ref", T_REF),
    P("dst_payload_ref", T_REF),
    P("encapsulates_refs", T_REFS),
    P("encapsulated_by_ref", T_REF),
    END,
};
static const struct sco_prop process[] = {
    P("is_hidden", T_BOOL),
    P("pid", T_INT),
    P("created_time", T_TS),
    P("cwd", T_STR),
    P("command_line", T_STR),
    P("environment_variables", T_DICT),
    P("opened_connection_refs", T_REFS),
    P("creator_user_ref", T_REF),
    P("image_ref", T_REF),
    P("parent_ref", T_REF),
    P("child_refs", T_REFS),
    END,
};
static const struct sco_prop software[] = {
    P("name", T_STR),
    P("cpe", T_STR),
    P("swid", T_STR),
    L("languages", T_STR),
    P("vendor", T_STR),
    P("version", T_STR),
    END,
};
static const struct sco_prop url[] = {P("value", T_STR), END};
static const struct sco_prop user_account[] = {
    P("user_id", T_STR),
    P("credential", T_STR),
    P("account_login", T_STR),
    P("account_type", T_STR),
    P("display_name", T_STR),
    P("is_service_account", T_BOOL),
    P("is_privileged", T_BOOL),
    P("can_escalate_privs", T_BOOL),
    P("is_disabled", T_BOOL),
    P("account_created", T_TS),
    P("account_expires", T_TS),
    P("credential_last_changed", T_TS),
    P("account_first_login", T_TS),
    P("account_last_login", T_TS),
    END,
};
static const struct sco_prop registry_value[] = {P("name", T_STR), P("data", T_STR),
                                                 P("data_type", T_STR), END};
static const struct sco_prop registry_key[] = {
    P("key", T_STR),
    LO("values", registry_value),
    P("modified_time", T_TS),
    P("creator_user_ref", T_REF),
    P("number_of_subkeys", T_INT),
    END,
};
static const struct sco_prop x509_v3[] = {
    P("basic_constraints", T_STR),
    P("name_constraints", T_STR),
    P("policy_constraints", T_STR),
    P("key_usage", T_STR),
    P("extended_key_usage", T_STR),
    P("subject_key_identifier", T_STR),
    P("authority_key_identifier", T_STR),
    P("subject_alternative_name", T_STR),
    P("issuer_alternative_name", T_STR),
    P("subject_directory_attributes", T_STR),
    P("crl_distribution_points", T_STR),
    P("inhibit_any_policy", T_STR),
    P("private_key_usage_period_not_before", T_TS),
    P("private_key_usage_period_not_after", T_TS),
    P("certificate_policies", T_STR),
    P("policy_mappings", T_STR),
    END,
};
static const struct sco_prop x509[] = {
    P("is_self_signed", T_BOOL),
    P("hashes", T_HASHES),
    P("version", T_STR),
    P("serial_number", T_STR),
    P("signature_algorithm", T_STR),
    P("issuer", T_STR),
    P("validity_not_before", T_TS),
    P("validity_not_after", T_TS),
    P("subject", T_STR),
    P("subject_public_key_algorithm", T_STR),
    P("subject_public_key_modulus", T_STR),
    P("subject_public_key_exponent", T_INT),
    O("x509_v3_extensions", x509_v3),
    END,
};

/* ---- predefined extensions ---- */

static const struct sco_prop archive_ext[] = {P("contains_refs", T_REFS), P("comment", T_STR), END};
static const struct sco_prop ads[] = {P("name", T_STR), P("hashes", T_HASHES), P("size", T_INT),
                                      END};
static const struct sco_prop ntfs_ext[] = {P("sid", T_STR), LO("alternate_data_streams", ads), END};
static const struct sco_prop pdf_ext[] = {
    P("version", T_STR), P("is_optimized", T_BOOL), P("document_info_dict", T_DICT),
    P("pdfid0", T_STR),  P("pdfid1", T_STR),        END,
};
static const struct sco_prop raster_ext[] = {
    P("image_height", T_INT),
    P("image_width", T_INT),
    P("bits_per_pixel", T_INT),
    P("exif_tags", T_DICT),
    END,
};
static const struct sco_prop pe_optional_header[] = {
    P("magic_hex", T_HEX),
    P("major_linker_version", T_INT),
    P("minor_linker_version", T_INT),
    P("size_of_code", T_INT),
    P("size_of_initialized_data", T_INT),
    P("size_of_uninitialized_data", T_INT),
    P("address_of_entry_point", T_INT),
    P("base_of_code", T_INT),
    P("base_of_data", T_INT),
    P("image_base", T_INT),
    P("section_alignment", T_INT),
    P("file_alignment", T_INT),
    P("major_os_version", T_INT),
    P("minor_os_version", T_INT),
    P("major_image_version", T_INT),
    P("minor_image_version", T_INT),
    P("major_subsystem_version", T_INT),
    P("minor_subsystem_version", T_INT),
    P("win32_version_value_hex", T_HEX),
    P("size_of_image", T_INT),
    P("size_of_headers", T_INT),
    P("checksum_hex", T_HEX),
    P("subsystem_hex", T_HEX),
    P("dll_characteristics_hex", T_HEX),
    P("size_of_stack_reserve", T_INT),
    P("size_of_stack_commit", T_INT),
    P("size_of_heap_reserve", T_INT),
    P("size_of_heap_commit", T_INT),
    P("loader_flags_hex", T_HEX),
    P("number_of_rva_and_sizes", T_INT),
    P("hashes", T_HASHES),
    END,
};
static const struct sco_prop pe_section[] = {P("name", T_STR), P("size", T_INT),
                                             P("entropy", T_FLOAT), P("hashes", T_HASHES), END};
static const struct sco_prop pe_ext[] = {
    P("pe_type", T_STR),
    P("imphash", T_STR),
    P("machine_hex", T_HEX),
    P("number_of_sections", T_INT),
    P("time_date_stamp", T_TS),
    P("pointer_to_symbol_table_hex", T_HEX),
    P("number_of_symbols", T_INT),
    P("size_of_optional_header", T_INT),
    P("characteristics_hex", T_HEX),
    P("file_header_hashes", T_HASHES),
    O("optional_header", pe_optional_header),
    LO("sections", pe_section),
    END,
};
static const struct sco_prop http_ext[] = {
    P("request_method", T_STR),
    P("request_value", T_STR),
    P("request_version", T_STR),
    P("request_header", T_DICT),
    P("message_body_length", T_INT),
    P("message_body_data_ref", T_REF),
    END,
};
static const struct sco_prop icmp_ext[] = {P("icmp_type_hex", T_HEX), P("icmp_code_hex", T_HEX),
                                           END};
static const struct sco_prop socket_ext[] = {
    P("address_family", T_STR), P("is_blocking", T_BOOL),
    P("is_listening", T_BOOL),  P("options", T_DICT),
    P("socket_type", T_STR),    P("socket_descriptor", T_INT),
    P("socket_handle", T_INT),  END,
};
static const struct sco_prop tcp_ext[] = {P("src_flags_hex", T_HEX), P("dst_flags_hex", T_HEX),
                                          END};
static const struct sco_prop winproc_ext[] = {
    P("aslr_enabled", T_BOOL),   P("dep_enabled", T_BOOL),
    P("priority", T_STR),        P("owner_sid", T_STR),
    P("window_title", T_STR),    P("startup_info", T_DICT),
    P("integrity_level", T_STR), END,
};
static const struct sco_prop winsvc_ext[] = {
    P("service_name", T_STR), L("descriptions", T_STR),   P("display_name", T_STR),
    P("group_name", T_STR),   P("start_type", T_STR),     P("service_dll_refs", T_REFS),
    P("service_type", T_STR), P("service_status", T_STR), END,
};
static const struct sco_prop unix_ext[] = {P("gid", T_INT), L("groups", T_STR),
                                           P("home_dir", T_STR), P("shell", T_STR), END};

static const struct sco_ext file_exts[] = {
    {"archive-ext", archive_ext},     {"ntfs-ext", ntfs_ext},           {"pdf-ext", pdf_ext},
    {"raster-image-ext", raster_ext}, {"windows-pebinary-ext", pe_ext}, {NULL, NULL},
};
static const struct sco_ext nt_exts[] = {
    {"http-request-ext", http_ext}, {"icmp-ext", icmp_ext}, {"socket-ext", socket_ext},
    {"tcp-ext", tcp_ext},           {NULL, NULL},
};
static const struct sco_ext process_exts[] = {
    {"windows-process-ext", winproc_ext},
    {"windows-service-ext", winsvc_ext},
    {NULL, NULL},
};
static const struct sco_ext user_exts[] = {{"unix-account-ext", unix_ext}, {NULL, NULL}};

static const struct sco_type types[] = {
    {"artifact", artifact, NULL},
    {"autonomous-system", autonomous_system, NULL},
    {"directory", directory, NULL},
    {"domain-name", domain_name, NULL},
    {"email-addr", email_addr, NULL},
    {"email-message", email_message, NULL},
    {"file", file, file_exts},
    {"ipv4-addr", ip_addr, NULL},
    {"ipv6-addr", ip_addr, NULL},
    {"mac-addr", mac_addr, NULL},
    {"mutex", mutex, NULL},
    {"network-traffic", network_traffic, nt_exts},
    {"process", process, process_exts},
    {"software", software, NULL},
    {"url", url, NULL},
    {"user-account", user_account, user_exts},
    {"windows-registry-key", registry_key, NULL},
    {"x509-certificate", x509, NULL},
};

static const struct sco_prop *find_prop(const struct sco_prop *t, const char *name)
{
    for (; t && t->name; t++) {
        if (strcmp(t->name, name) == 0)
            return t;
    }
    return NULL;
}

static const char *type_name(enum sco_t t)
{
    switch (t) {
    case T_STR:
        return "a string";
    case T_INT:
        return "an integer";
    case T_FLOAT:
        return "a float";
    case T_BOOL:
        return "a boolean";
    case T_TS:
        return "a timestamp";
    case T_BIN:
        return "binary";
    case T_HEX:
        return "hex binary";
    case T_LIST:
    case T_REFS:
        return "a list";
    case T_DICT:
    case T_HASHES:
    case T_EXT:
        return "a dictionary";
    case T_OBJ:
        return "an object";
    default:
        return "a value";
    }
}

static const char *op_name(enum pat_op op)
{
    static const char *const names[] = {"=",       "!=",       "<",          "<=",
                                        ">",       ">=",       "IN",         "LIKE",
                                        "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"};
    return (size_t)op < CTIX_ARRAY_LEN(names) ? names[op] : "?";
}

/* The path's first n steps as text, for messages. */
static void path_text(const struct pat_path *path, size_t n, char *out, size_t len)
{
    struct pat_path part = *path;
    struct buf b;

    part.n_steps = n;
    buf_init(&b, 200);
    if (pattern__print_path(&part, &b) != CTIX_OK || b.len == 0)
        snprintf(out, len, "%s:...", path->type);
    else
        snprintf(out, len, "%s", b.data);
    buf_cleanup(&b);
}

/* Whether a literal of kind k may be compared with a property of type t by op. */
static bool operand_ok(enum sco_t t, enum pat_op op, enum pat_lit_kind k)
{
    bool num = k == PAT_LIT_INT || k == PAT_LIT_FLOAT;
    bool text_op = op == PAT_OP_LIKE || op == PAT_OP_MATCHES;
    bool net_op = op == PAT_OP_ISSUBSET || op == PAT_OP_ISSUPERSET;

    switch (t) {
    case T_STR:
        return k == PAT_LIT_STR;
    case T_INT:
    case T_FLOAT:
        return num && !text_op && !net_op;
    case T_BOOL:
        return k == PAT_LIT_BOOL;
    case T_TS:
        return k == PAT_LIT_TS && !text_op && !net_op;
    case T_BIN:
    case T_HEX:
        return (k == PAT_LIT_BIN || k == PAT_LIT_STR) && !net_op;
    default:
        return true;
    }
}

bool pattern__sco_check(const struct pat_cmp *cmp, bool *at_lit, char *msg, size_t msg_len)
{
    const struct pat_path *path = &cmp->path;
    const struct sco_type *ty = NULL;
    const struct sco_prop *pr;
    enum sco_t cur, elem;
    const struct sco_prop *sub;
    char where[160];
    enum pat_lit_kind k;

    *at_lit = false;
    if (strncmp(path->type, "x-", 2) == 0)
        return true;
    for (size_t i = 0; i < CTIX_ARRAY_LEN(types); i++) {
        if (strcmp(types[i].name, path->type) == 0) {
            ty = &types[i];
            break;
        }
    }
    if (ty == NULL) {
        snprintf(msg, msg_len,
                 "unknown object type '%.60s' (not a STIX 2.1 SCO type; custom types start "
                 "with 'x-')",
                 path->type);
        return false;
    }
    pr = find_prop(ty->props, path->steps[0].key);
    if (pr == NULL)
        pr = find_prop(common, path->steps[0].key);
    if (pr == NULL) {
        if (strncmp(path->steps[0].key, "x_", 2) == 0)
            return true;
        snprintf(msg, msg_len, "%s has no property '%.60s'", ty->name, path->steps[0].key);
        return false;
    }
    cur = pr->type;
    elem = pr->elem;
    sub = pr->sub;
    for (size_t i = 1; i < path->n_steps; i++) {
        const struct pat_step *st = &path->steps[i];
        bool key = st->kind == PAT_STEP_KEY;

        if (cur == T_ANY || cur == T_REF)
            return true; /* open from here */
        switch (cur) {
        case T_LIST:
        case T_REFS:
            if (key) {
                path_text(path, i, where, sizeof(where));
                snprintf(msg, msg_len, "%s is a list: index it ([n] or [*]) before '.%.40s'", where,
                         st->key);
                return false;
            }
            if (cur == T_REFS)
                return true;
            cur = elem;
            elem = T_ANY;
            break;
        case T_DICT:
        case T_HASHES:
            if (!key && st->kind != PAT_STEP_ANY) {
                path_text(path, i, where, sizeof(where));
                snprintf(msg, msg_len, "%s is a dictionary, not a list", where);
                return false;
            }
            cur = cur == T_HASHES ? T_STR : T_ANY;
            sub = NULL;
            break;
        case T_EXT:
            if (!key) {
                path_text(path, i, where, sizeof(where));
                snprintf(msg, msg_len, "%s is a dictionary, not a list", where);
                return false;
            }
            cur = T_ANY;
            for (const struct sco_ext *e = ty->exts; e && e->name; e++) {
                if (strcmp(e->name, st->key) == 0) {
                    cur = T_OBJ;
                    sub = e->props;
                    break;
                }
            }
            break;
        case T_OBJ:
            if (!key) {
                path_text(path, i, where, sizeof(where));
                snprintf(msg, msg_len, "%s is an object, not a list", where);
                return false;
            }
            pr = find_prop(sub, st->key);
            if (pr == NULL) {
                if (strncmp(st->key, "x_", 2) == 0)
                    return true;
                path_text(path, i, where, sizeof(where));
                snprintf(msg, msg_len, "%s has no property '%.60s'", where, st->key);
                return false;
            }
            cur = pr->type;
            elem = pr->elem;
            sub = pr->sub;
            break;
        default:
            path_text(path, i, where, sizeof(where));
            snprintf(msg, msg_len, "%s is %s: it has no %s", where, type_name(cur),
                     key ? "properties" : "elements");
            return false;
        }
    }
    if (cmp->op == PAT_OP_EXISTS || cur == T_ANY || cur == T_REF || cur == T_REFS)
        return true;
    if (cur == T_LIST) /* compared element by element, as the matchers do */
        cur = elem;
    if (cur == T_DICT || cur == T_HASHES || cur == T_EXT || cur == T_OBJ) {
        path_text(path, path->n_steps, where, sizeof(where));
        snprintf(msg, msg_len, "%s is %s: compare one of its properties (or use EXISTS)", where,
                 type_name(cur));
        return false;
    }
    if (cmp->lit.kind == PAT_LIT_SET) {
        if (cmp->lit.u.set.n == 0)
            return true;
        k = cmp->lit.u.set.v[0].kind;
    } else {
        k = cmp->lit.kind;
    }
    if (operand_ok(cur, cmp->op, k))
        return true;
    *at_lit = true;
    path_text(path, path->n_steps, where, sizeof(where));
    if (cmp->op == PAT_OP_LIKE || cmp->op == PAT_OP_MATCHES || cmp->op == PAT_OP_ISSUBSET ||
        cmp->op == PAT_OP_ISSUPERSET)
        snprintf(msg, msg_len, "%s is %s, %s cannot be used on it", where, type_name(cur),
                 op_name(cmp->op));
    else
        snprintf(msg, msg_len, "%s is %s, cannot compare it with %s", where, type_name(cur),
                 pattern__lit_kind_name(k));
    return false;
}
