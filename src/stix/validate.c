/* Validation of one STIX 2.1 object, driven by tables: the common properties of each category
 * (§A5), the specific properties of every type the specification defines (§A7) and of the
 * predefined SCO extensions, then a few per-type rules that a table cannot say (one of two
 * properties, ordered timestamps, coordinates). Unknown property names and unknown object types
 * are accepted as the specification's customisation rules allow. */
#include "stix/stix.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stix/stix_int.h"

#define INT_MAXV 9007199254740991.0 /* 2^53 - 1: the STIX integer range */

enum cat { CAT_SDO, CAT_SRO, CAT_SCO, CAT_EXTDEF, CAT_LANG, CAT_MARK, CAT_CUSTOM };

static const char *const cat_names[] = {
    "SDOs",
    "SROs",
    "SCOs",
    "extension-definition",
    "language-content",
    "marking-definition",
    "custom objects",
};

enum ptype {
    T_STR,
    T_BOOL,
    T_INT,
    T_FLOAT,
    T_TS,
    T_TSMS,
    T_REF,
    T_REFS,
    T_STRS,
    T_DICT,
    T_HASHES,
    T_HEX,
    T_BIN,
    T_KCPS,
    T_EXTREFS,
    T_GRANULAR,
    T_EXTENSIONS,
    T_ENUM,
    T_ENUMS,
    T_OBJ,
    T_OBJS,
    T_ANYOBJ,
    T_SPECVER,
    T_CONTAINER,
    T_LCCONTENTS,
};

struct prop {
    const char *name;
    unsigned char t, req;
    const char *arg; /* T_REF(S): allowed target types, T_ENUM(S): values; '|'-separated */
    double min, max; /* T_INT, T_FLOAT */
    const struct prop *sub;
};

#define P(n, ty)                                                                                   \
    {                                                                                              \
        .name = n, .t = ty                                                                         \
    }
#define R(n, ty)                                                                                   \
    {                                                                                              \
        .name = n, .t = ty, .req = 1                                                               \
    }
#define STR(n)    P(n, T_STR)
#define RSTR(n)   R(n, T_STR)
#define BOOL(n)   P(n, T_BOOL)
#define TS(n)     P(n, T_TS)
#define RTS(n)    R(n, T_TS)
#define STRS(n)   P(n, T_STRS)
#define DICT(n)   P(n, T_DICT)
#define HASHES(n) P(n, T_HASHES)
#define HEX(n)    P(n, T_HEX)
#define KCPS(n)   P(n, T_KCPS)
#define INT(n)                                                                                     \
    {                                                                                              \
        .name = n, .t = T_INT, .min = -INT_MAXV, .max = INT_MAXV                                   \
    }
#define UINT(n)                                                                                    \
    {                                                                                              \
        .name = n, .t = T_INT, .min = 0, .max = INT_MAXV                                           \
    }
#define INTR(n, r, lo, hi)                                                                         \
    {                                                                                              \
        .name = n, .t = T_INT, .req = r, .min = lo, .max = hi                                      \
    }
#define FLOAT(n, lo, hi)                                                                           \
    {                                                                                              \
        .name = n, .t = T_FLOAT, .min = lo, .max = hi                                              \
    }
#define REF(n, tg)                                                                                 \
    {                                                                                              \
        .name = n, .t = T_REF, .arg = tg                                                           \
    }
#define RREF(n, tg)                                                                                \
    {                                                                                              \
        .name = n, .t = T_REF, .req = 1, .arg = tg                                                 \
    }
#define REFS(n, tg)                                                                                \
    {                                                                                              \
        .name = n, .t = T_REFS, .arg = tg                                                          \
    }
#define RREFS(n, tg)                                                                               \
    {                                                                                              \
        .name = n, .t = T_REFS, .req = 1, .arg = tg                                                \
    }
#define ENUM(n, vals)                                                                              \
    {                                                                                              \
        .name = n, .t = T_ENUM, .arg = vals                                                        \
    }
#define RENUM(n, vals)                                                                             \
    {                                                                                              \
        .name = n, .t = T_ENUM, .req = 1, .arg = vals                                              \
    }
#define OBJ(n, s)                                                                                  \
    {                                                                                              \
        .name = n, .t = T_OBJ, .sub = s                                                            \
    }
#define OBJS(n, s)                                                                                 \
    {                                                                                              \
        .name = n, .t = T_OBJS, .sub = s                                                           \
    }
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }

#define SDO_OR_SCO "@sdo|@sco"
#define ADDR_TGT   "ipv4-addr|ipv6-addr|mac-addr|domain-name"

/* ---- common properties (§A5) ---- */

/* use[] per category, in enum cat order: R required, O optional, - not allowed. */
struct common {
    struct prop p;
    char use[8];
};

static const struct common commons[] = {
    {P("spec_version", T_SPECVER), "RRORRRO"},
    {REF("created_by_ref", "identity"), "OO-ROOO"},
    {P("created", T_TSMS), "RR-RRRO"},
    {P("modified", T_TSMS), "RR-RR-O"},
    {BOOL("revoked"), "OO-OO-O"},
    {STRS("labels"), "OO-OO-O"},
    {INTR("confidence", 0, 0, 100), "OO--O-O"},
    {STR("lang"), "OO----O"},
    {P("external_references", T_EXTREFS), "OO-OOOO"},
    {REFS("object_marking_refs", "marking-definition"), "OOOOOOO"},
    {P("granular_markings", T_GRANULAR), "OOOOOOO"},
    {BOOL("defanged"), "--O---O"},
    {P("extensions", T_EXTENSIONS), "OOO-OOO"},
};

/* ---- sub-objects ---- */

static const struct prop kcp_props[] = {RSTR("kill_chain_name"), RSTR("phase_name"), END};
static const struct prop extref_props[] = {
    RSTR("source_name"), STR("description"), STR("url"), HASHES("hashes"), STR("external_id"), END,
};
static const struct prop granular_props[] = {
    R("selectors", T_STRS),
    STR("lang"),
    REF("marking_ref", "marking-definition"),
    END,
};
static const struct prop mime_part_props[] = {
    STR("body"),
    REF("body_raw_ref", "artifact|file"),
    STR("content_type"),
    STR("content_disposition"),
    END,
};
static const struct prop regval_props[] = {
    STR("name"),
    STR("data"),
    ENUM("data_type", "REG_NONE|REG_SZ|REG_EXPAND_SZ|REG_BINARY|REG_DWORD|REG_DWORD_BIG_ENDIAN|"
                      "REG_DWORD_LITTLE_ENDIAN|REG_LINK|REG_MULTI_SZ|REG_RESOURCE_LIST|"
                      "REG_FULL_RESOURCE_DESCRIPTION|REG_RESOURCE_REQUIREMENTS_LIST|REG_QWORD|"
                      "REG_INVALID_TYPE"),
    END,
};
static const struct prop x509v3_props[] = {
    STR("basic_constraints"),
    STR("name_constraints"),
    STR("policy_constraints"),
    STR("key_usage"),
    STR("extended_key_usage"),
    STR("subject_key_identifier"),
    STR("authority_key_identifier"),
    STR("subject_alternative_name"),
    STR("issuer_alternative_name"),
    STR("subject_directory_attributes"),
    STR("crl_distribution_points"),
    STR("inhibit_any_policy"),
    TS("private_key_usage_period_not_before"),
    TS("private_key_usage_period_not_after"),
    STR("certificate_policies"),
    STR("policy_mappings"),
    END,
};

/* ---- predefined SCO extensions (§A7.4) ---- */

static const struct prop archive_ext[] = {
    RREFS("contains_refs", "file|directory"),
    STR("comment"),
    END,
};
static const struct prop ads_props[] = {RSTR("name"), HASHES("hashes"), UINT("size"), END};
static const struct prop ntfs_ext[] = {STR("sid"), OBJS("alternate_data_streams", ads_props), END};
static const struct prop pdf_ext[] = {
    STR("version"), BOOL("is_optimized"), DICT("document_info_dict"),
    STR("pdfid0"),  STR("pdfid1"),        END,
};
static const struct prop raster_ext[] = {
    INT("image_height"), INT("image_width"), INT("bits_per_pixel"), DICT("exif_tags"), END,
};
static const struct prop pe_section_props[] = {
    RSTR("name"), UINT("size"), FLOAT("entropy", -INFINITY, INFINITY), HASHES("hashes"), END,
};
static const struct prop pebinary_ext[] = {
    RSTR("pe_type"),
    STR("imphash"),
    HEX("machine_hex"),
    UINT("number_of_sections"),
    TS("time_date_stamp"),
    HEX("pointer_to_symbol_table_hex"),
    UINT("number_of_symbols"),
    UINT("size_of_optional_header"),
    HEX("characteristics_hex"),
    HASHES("file_header_hashes"),
    P("optional_header", T_ANYOBJ),
    OBJS("sections", pe_section_props),
    END,
};
static const struct prop http_ext[] = {
    RSTR("request_method"),
    RSTR("request_value"),
    STR("request_version"),
    DICT("request_header"),
    UINT("message_body_length"),
    REF("message_body_data_ref", "artifact"),
    END,
};
static const struct prop icmp_ext[] = {R("icmp_type_hex", T_HEX), R("icmp_code_hex", T_HEX), END};
static const struct prop socket_ext[] = {
    RENUM("address_family",
          "AF_UNSPEC|AF_INET|AF_IPX|AF_APPLETALK|AF_NETBIOS|AF_INET6|AF_IRDA|AF_BTH"),
    BOOL("is_blocking"),
    BOOL("is_listening"),
    DICT("options"),
    ENUM("socket_type", "SOCK_STREAM|SOCK_DGRAM|SOCK_RAW|SOCK_RDM|SOCK_SEQPACKET"),
    UINT("socket_descriptor"),
    INT("socket_handle"),
    END,
};
static const struct prop tcp_ext[] = {HEX("src_flags_hex"), HEX("dst_flags_hex"), END};
static const struct prop winproc_ext[] = {
    BOOL("aslr_enabled"),
    BOOL("dep_enabled"),
    STR("priority"),
    STR("owner_sid"),
    STR("window_title"),
    DICT("startup_info"),
    ENUM("integrity_level", "low|medium|high|system"),
    END,
};
static const struct prop winsvc_ext[] = {
    STR("service_name"),
    STRS("descriptions"),
    STR("display_name"),
    STR("group_name"),
    ENUM("start_type", "SERVICE_AUTO_START|SERVICE_BOOT_START|SERVICE_DEMAND_START|"
                       "SERVICE_DISABLED|SERVICE_SYSTEM_ALERT"),
    REFS("service_dll_refs", "file"),
    ENUM("service_type", "SERVICE_KERNEL_DRIVER|SERVICE_FILE_SYSTEM_DRIVER|"
                         "SERVICE_WIN32_OWN_PROCESS|SERVICE_WIN32_SHARE_PROCESS"),
    ENUM("service_status", "SERVICE_CONTINUE_PENDING|SERVICE_PAUSE_PENDING|SERVICE_PAUSED|"
                           "SERVICE_RUNNING|SERVICE_START_PENDING|SERVICE_STOP_PENDING|"
                           "SERVICE_STOPPED"),
    END,
};
static const struct prop unix_ext[] = {
    INT("gid"), STRS("groups"), STR("home_dir"), STR("shell"), END,
};

static const struct {
    const char *key, *type;
    const struct prop *props;
} predef_exts[] = {
    {"archive-ext", "file", archive_ext},
    {"ntfs-ext", "file", ntfs_ext},
    {"pdf-ext", "file", pdf_ext},
    {"raster-image-ext", "file", raster_ext},
    {"windows-pebinary-ext", "file", pebinary_ext},
    {"http-request-ext", "network-traffic", http_ext},
    {"icmp-ext", "network-traffic", icmp_ext},
    {"socket-ext", "network-traffic", socket_ext},
    {"tcp-ext", "network-traffic", tcp_ext},
    {"windows-process-ext", "process", winproc_ext},
    {"windows-service-ext", "process", winsvc_ext},
    {"unix-account-ext", "user-account", unix_ext},
};

/* ---- object types (§A7) ---- */

static const struct prop attack_pattern[] = {
    RSTR("name"), STR("description"), STRS("aliases"), KCPS("kill_chain_phases"), END,
};
static const struct prop campaign[] = {
    RSTR("name"),
    STR("description"),
    STRS("aliases"),
    TS("first_seen"),
    TS("last_seen"),
    STR("objective"),
    END,
};
static const struct prop course_of_action[] = {RSTR("name"), STR("description"), END};
static const struct prop grouping[] = {
    STR("name"), STR("description"), RSTR("context"), RREFS("object_refs", "@any"), END,
};
static const struct prop identity[] = {
    RSTR("name"),    STR("description"),         STRS("roles"), STR("identity_class"),
    STRS("sectors"), STR("contact_information"), END,
};
static const struct prop incident[] = {RSTR("name"), STR("description"), END};
static const struct prop indicator[] = {
    STR("name"),
    STR("description"),
    STRS("indicator_types"),
    RSTR("pattern"),
    RSTR("pattern_type"),
    STR("pattern_version"),
    RTS("valid_from"),
    TS("valid_until"),
    KCPS("kill_chain_phases"),
    END,
};
static const struct prop infrastructure[] = {
    RSTR("name"),
    STR("description"),
    STRS("infrastructure_types"),
    STRS("aliases"),
    KCPS("kill_chain_phases"),
    TS("first_seen"),
    TS("last_seen"),
    END,
};
static const struct prop intrusion_set[] = {
    RSTR("name"),
    STR("description"),
    STRS("aliases"),
    TS("first_seen"),
    TS("last_seen"),
    STRS("goals"),
    STR("resource_level"),
    STR("primary_motivation"),
    STRS("secondary_motivations"),
    END,
};
static const struct prop location[] = {
    STR("name"),
    STR("description"),
    FLOAT("latitude", -90, 90),
    FLOAT("longitude", -180, 180),
    FLOAT("precision", 0, INFINITY),
    STR("region"),
    STR("country"),
    STR("administrative_area"),
    STR("city"),
    STR("street_address"),
    STR("postal_code"),
    END,
};
static const struct prop malware[] = {
    STR("name"),
    STR("description"),
    R("is_family", T_BOOL),
    STRS("malware_types"),
    STRS("aliases"),
    KCPS("kill_chain_phases"),
    TS("first_seen"),
    TS("last_seen"),
    REFS("operating_system_refs", "software"),
    STRS("architecture_execution_envs"),
    STRS("implementation_languages"),
    STRS("capabilities"),
    REFS("sample_refs", "file|artifact"),
    END,
};
static const struct prop malware_analysis[] = {
    RSTR("product"),
    STR("version"),
    REF("host_vm_ref", "software"),
    REF("operating_system_ref", "software"),
    REFS("installed_software_refs", "software"),
    STR("configuration_version"),
    STRS("modules"),
    STR("analysis_engine_version"),
    STR("analysis_definition_version"),
    TS("submitted"),
    TS("analysis_started"),
    TS("analysis_ended"),
    STR("result_name"),
    STR("result"),
    REFS("analysis_sco_refs", "@sco"),
    REF("sample_ref", "file|artifact|network-traffic"),
    END,
};
static const struct prop note[] = {
    STR("abstract"), RSTR("content"), STRS("authors"), RREFS("object_refs", "@any"), END,
};
static const struct prop observed_data[] = {
    RTS("first_observed"),
    RTS("last_observed"),
    INTR("number_observed", 1, 1, 999999999),
    REFS("object_refs", "@sco|@sro"),
    P("objects", T_CONTAINER),
    END,
};
static const struct prop opinion[] = {
    STR("explanation"),
    STRS("authors"),
    RENUM("opinion", "strongly-disagree|disagree|neutral|agree|strongly-agree"),
    RREFS("object_refs", "@any"),
    END,
};
static const struct prop report[] = {
    RSTR("name"),     STR("description"),           STRS("report_types"),
    RTS("published"), RREFS("object_refs", "@any"), END,
};
static const struct prop threat_actor[] = {
    RSTR("name"),
    STR("description"),
    STRS("threat_actor_types"),
    STRS("aliases"),
    TS("first_seen"),
    TS("last_seen"),
    STRS("roles"),
    STRS("goals"),
    STR("sophistication"),
    STR("resource_level"),
    STR("primary_motivation"),
    STRS("secondary_motivations"),
    STRS("personal_motivations"),
    END,
};
static const struct prop tool[] = {
    RSTR("name"),
    STR("description"),
    STRS("tool_types"),
    STRS("aliases"),
    KCPS("kill_chain_phases"),
    STR("tool_version"),
    END,
};
static const struct prop vulnerability[] = {RSTR("name"), STR("description"), END};

static const struct prop relationship[] = {
    RSTR("relationship_type"),
    STR("description"),
    RREF("source_ref", SDO_OR_SCO),
    RREF("target_ref", SDO_OR_SCO),
    TS("start_time"),
    TS("stop_time"),
    END,
};
static const struct prop sighting[] = {
    STR("description"),
    TS("first_seen"),
    TS("last_seen"),
    INTR("count", 0, 0, 999999999),
    RREF("sighting_of_ref", "@sdo"),
    REFS("observed_data_refs", "observed-data"),
    REFS("where_sighted_refs", "identity|location"),
    BOOL("summary"),
    END,
};

static const struct prop artifact[] = {
    STR("mime_type"),
    P("payload_bin", T_BIN),
    STR("url"),
    HASHES("hashes"),
    ENUM("encryption_algorithm", "AES-256-GCM|ChaCha20-Poly1305|mime-type-indicated"),
    STR("decryption_key"),
    END,
};
static const struct prop autonomous_system[] = {
    INTR("number", 1, 0, INT_MAXV),
    STR("name"),
    STR("rir"),
    END,
};
static const struct prop directory[] = {
    RSTR("path"), STR("path_enc"), TS("ctime"),
    TS("mtime"),  TS("atime"),     REFS("contains_refs", "file|directory"),
    END,
};
static const struct prop domain_name[] = {
    RSTR("value"),
    REFS("resolves_to_refs", "domain-name|ipv4-addr|ipv6-addr"),
    END,
};
static const struct prop email_addr[] = {
    RSTR("value"),
    STR("display_name"),
    REF("belongs_to_ref", "user-account"),
    END,
};
static const struct prop email_message[] = {
    R("is_multipart", T_BOOL),
    TS("date"),
    STR("content_type"),
    REF("from_ref", "email-addr"),
    REF("sender_ref", "email-addr"),
    REFS("to_refs", "email-addr"),
    REFS("cc_refs", "email-addr"),
    REFS("bcc_refs", "email-addr"),
    STR("message_id"),
    STR("subject"),
    STRS("received_lines"),
    DICT("additional_header_fields"),
    STR("body"),
    OBJS("body_multipart", mime_part_props),
    REF("raw_email_ref", "artifact"),
    END,
};
static const struct prop file[] = {
    HASHES("hashes"),
    UINT("size"),
    STR("name"),
    STR("name_enc"),
    HEX("magic_number_hex"),
    STR("mime_type"),
    TS("ctime"),
    TS("mtime"),
    TS("atime"),
    REF("parent_directory_ref", "directory"),
    REFS("contains_refs", "@sco"),
    REF("content_ref", "artifact"),
    END,
};
static const struct prop ip_addr[] = {
    RSTR("value"),
    REFS("resolves_to_refs", "mac-addr"),
    REFS("belongs_to_refs", "autonomous-system"),
    END,
};
static const struct prop mac_addr[] = {RSTR("value"), END};
static const struct prop mutex[] = {RSTR("name"), END};
static const struct prop network_traffic[] = {
    TS("start"),
    TS("end"),
    BOOL("is_active"),
    REF("src_ref", ADDR_TGT),
    REF("dst_ref", ADDR_TGT),
    INTR("src_port", 0, 0, 65535),
    INTR("dst_port", 0, 0, 65535),
    R("protocols", T_STRS),
    UINT("src_byte_count"),
    UINT("dst_byte_count"),
    UINT("src_packets"),
    UINT("dst_packets"),
    DICT("ipfix"),
    REF("src_payload_ref", "artifact"),
    REF("dst_payload_ref", "artifact"),
    REFS("encapsulates_refs", "network-traffic"),
    REF("encapsulated_by_ref", "network-traffic"),
    END,
};
static const struct prop process[] = {
    BOOL("is_hidden"),
    INT("pid"),
    TS("created_time"),
    STR("cwd"),
    STR("command_line"),
    DICT("environment_variables"),
    REFS("opened_connection_refs", "network-traffic"),
    REF("creator_user_ref", "user-account"),
    REF("image_ref", "file"),
    REF("parent_ref", "process"),
    REFS("child_refs", "process"),
    END,
};
static const struct prop software[] = {
    RSTR("name"), STR("cpe"), STR("swid"), STRS("languages"), STR("vendor"), STR("version"), END,
};
static const struct prop url[] = {RSTR("value"), END};
static const struct prop user_account[] = {
    STR("user_id"),
    STR("credential"),
    STR("account_login"),
    STR("account_type"),
    STR("display_name"),
    BOOL("is_service_account"),
    BOOL("is_privileged"),
    BOOL("can_escalate_privs"),
    BOOL("is_disabled"),
    TS("account_created"),
    TS("account_expires"),
    TS("credential_last_changed"),
    TS("account_first_login"),
    TS("account_last_login"),
    END,
};
static const struct prop registry_key[] = {
    STR("key"),
    OBJS("values", regval_props),
    TS("modified_time"),
    REF("creator_user_ref", "user-account"),
    UINT("number_of_subkeys"),
    END,
};
static const struct prop x509_certificate[] = {
    BOOL("is_self_signed"),
    HASHES("hashes"),
    STR("version"),
    STR("serial_number"),
    STR("signature_algorithm"),
    STR("issuer"),
    TS("validity_not_before"),
    TS("validity_not_after"),
    STR("subject"),
    STR("subject_public_key_algorithm"),
    STR("subject_public_key_modulus"),
    INT("subject_public_key_exponent"),
    OBJ("x509_v3_extensions", x509v3_props),
    END,
};

static const struct prop extension_definition[] = {
    RSTR("name"),
    STR("description"),
    RSTR("schema"),
    RSTR("version"),
    {.name = "extension_types",
     .t = T_ENUMS,
     .req = 1,
     .arg = "new-sdo|new-sco|new-sro|property-extension|toplevel-property-extension"},
    STRS("extension_properties"),
    END,
};
static const struct prop language_content[] = {
    RREF("object_ref", "@any"),
    TS("object_modified"),
    R("contents", T_LCCONTENTS),
    END,
};
static const struct prop marking_definition[] = {
    STR("name"),
    STR("definition_type"),
    P("definition", T_ANYOBJ),
    END,
};

struct vctx;
typedef enum ctix_rc (*type_check_fn)(struct vctx *c, const json_t *j);

struct tspec {
    const char *type;
    enum cat cat;
    const struct prop *props;
    type_check_fn check;
    bool needs_one; /* at least one specific property (or extension) must be present */
};

/* ---- context, paths and messages ---- */

struct vctx {
    struct ctix_diag *diag;
    const json_t *root;
    const char *type;
    size_t plen;
    char path[128];
};

/* Appends "/s" (or "s" at the root), truncating at the buffer's end; returns the old length.
 * On every member of every object, so no printf. */
static size_t path_push(struct vctx *c, const char *s)
{
    size_t old = c->plen, room, n = strlen(s);

    if (c->plen > 0 && c->plen < sizeof(c->path) - 1)
        c->path[c->plen++] = '/';
    room = sizeof(c->path) - 1 - c->plen;
    if (n > room)
        n = room;
    memcpy(c->path + c->plen, s, n);
    c->plen += n;
    c->path[c->plen] = '\0';
    return old;
}

static size_t path_pushi(struct vctx *c, size_t i)
{
    char tmp[24];
    size_t n = sizeof(tmp) - 1;

    tmp[n] = '\0';
    do {
        tmp[--n] = (char)('0' + i % 10);
        i /= 10;
    } while (i > 0 && n > 0);
    return path_push(c, tmp + n);
}

static void path_pop(struct vctx *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

static enum ctix_rc fail(struct vctx *c, const char *fmt, ...) CTIX_PRINTF(2, 3);

static enum ctix_rc fail(struct vctx *c, const char *fmt, ...)
{
    char msg[224];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->plen > 0)
        ctix_diag_set(c->diag, c->path, "%s: %s", c->path, msg);
    else
        ctix_diag_set(c->diag, NULL, "%s", msg);
    return CTIX_EINVAL;
}

/* Fails at the member name of the current object. */
static enum ctix_rc fail_at(struct vctx *c, const char *name, const char *fmt, ...)
    CTIX_PRINTF(3, 4);

static enum ctix_rc fail_at(struct vctx *c, const char *name, const char *fmt, ...)
{
    char msg[224];
    va_list ap;
    size_t old = path_push(c, name);

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    (void)fail(c, "%s", msg);
    path_pop(c, old);
    return CTIX_EINVAL;
}

/* ---- small predicates ---- */

/* True when s equals one of the '|'-separated words of list. */
static bool in_list(const char *s, const char *list)
{
    size_t n = strlen(s);

    while (*list != '\0') {
        const char *end = strchr(list, '|');
        size_t wl = end != NULL ? (size_t)(end - list) : strlen(list);

        if (wl == n && memcmp(s, list, n) == 0)
            return true;
        list += wl;
        if (*list == '|')
            list++;
    }
    return false;
}

static bool custom_name_valid(const char *s)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        char ch = s[n];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return false;
    }
    return n >= 3 && n <= 250;
}

static bool dict_key_valid(const char *s, size_t min)
{
    size_t n;

    for (n = 0; s[n] != '\0'; n++) {
        char ch = s[n];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return false;
    }
    return n >= min && n <= 250;
}

static bool hex_ci(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return s[n] == '\0';
}

static void targets_describe(const char *tg, char *out, size_t n)
{
    size_t o = 0;

    out[0] = '\0';
    while (*tg != '\0' && o < n) {
        const char *end = strchr(tg, '|');
        size_t wl = end != NULL ? (size_t)(end - tg) : strlen(tg);
        const char *word = NULL;
        int w;

        if (wl == 4 && memcmp(tg, "@sdo", 4) == 0)
            word = "an SDO";
        else if (wl == 4 && memcmp(tg, "@sco", 4) == 0)
            word = "an SCO";
        else if (wl == 4 && memcmp(tg, "@sro", 4) == 0)
            word = "an SRO";
        if (word != NULL)
            w = snprintf(out + o, n - o, "%s%s", o > 0 ? " or " : "", word);
        else
            w = snprintf(out + o, n - o, "%s%.*s", o > 0 ? " or " : "", (int)wl, tg);
        if (w < 0)
            break;
        o += (size_t)w;
        tg += wl;
        if (*tg == '|')
            tg++;
    }
}

static bool target_ok(const char *id, const char *tg)
{
    enum stix_kind kind;
    size_t tlen;

    if (!stix__id_kind(id, &kind, &tlen))
        return false;
    while (*tg != '\0') {
        const char *end = strchr(tg, '|');
        size_t wl = end != NULL ? (size_t)(end - tg) : strlen(tg);

        /* A custom type may be a new SDO or SCO defined by an extension: accept it where an
         * SDO or SCO may be referenced, since its category cannot be told from the id. */
        if (wl == 4 && memcmp(tg, "@any", 4) == 0)
            return true;
        if (wl == 4 && memcmp(tg, "@sdo", 4) == 0 &&
            (kind == STIX_KIND_SDO || kind == STIX_KIND_CUSTOM))
            return true;
        if (wl == 4 && memcmp(tg, "@sco", 4) == 0 &&
            (kind == STIX_KIND_SCO || kind == STIX_KIND_CUSTOM))
            return true;
        if (wl == 4 && memcmp(tg, "@sro", 4) == 0 && kind == STIX_KIND_SRO)
            return true;
        if (wl == tlen && memcmp(tg, id, tlen) == 0)
            return true;
        tg += wl;
        if (*tg == '|')
            tg++;
    }
    return false;
}

/* ---- value checkers: the path already names the value ---- */

static enum ctix_rc check_props(struct vctx *c, const json_t *obj, const struct prop *props);

static enum ctix_rc check_ts(struct vctx *c, const json_t *v, bool ms)
{
    struct ctix_ts t;
    const char *s = json_string_value(v);

    if (s == NULL)
        return fail(c, "must be a timestamp string");
    if (stix_ts_parse(s, false, &t) != CTIX_OK)
        return fail(c, "not a valid timestamp \"YYYY-MM-DDTHH:MM:SS[.s+]Z\" (got \"%.60s\")", s);
    if (ms && t.frac_digits < 3)
        return fail(c, "timestamp needs millisecond precision (got \"%.60s\")", s);
    return CTIX_OK;
}

static enum ctix_rc check_ref(struct vctx *c, const json_t *v, const char *tg)
{
    const char *s = json_string_value(v);
    char want[160];

    if (s == NULL)
        return fail(c, "must be an identifier string");
    if (!stix_id_valid(s, NULL))
        return fail(c, "not a valid identifier \"type--UUID\" (got \"%.80s\")", s);
    if (!target_ok(s, tg)) {
        targets_describe(tg, want, sizeof(want));
        return fail(c, "must reference %s (got \"%.80s\")", want, s);
    }
    return CTIX_OK;
}

static enum ctix_rc check_list(struct vctx *c, const json_t *v)
{
    if (!json_is_array(v))
        return fail(c, "must be a list");
    if (json_array_size(v) == 0)
        return fail(c, "empty list not allowed");
    return CTIX_OK;
}

static enum ctix_rc check_dict(struct vctx *c, const json_t *v)
{
    const char *key;
    const json_t *m;

    if (!json_is_object(v))
        return fail(c, "must be a dictionary");
    if (json_object_size(v) == 0)
        return fail(c, "empty dictionary not allowed");
    json_object_foreach((json_t *)v, key, m)
    {
        if (!dict_key_valid(key, 1))
            return fail_at(c, key,
                           "dictionary key must be 1-250 characters of a-z, A-Z, 0-9, "
                           "- and _");
    }
    return CTIX_OK;
}

static enum ctix_rc check_hashes(struct vctx *c, const json_t *v)
{
    static const struct {
        const char *name;
        size_t len;
    } algos[] = {
        {"MD5", 32},      {"SHA-1", 40},    {"SHA-256", 64},
        {"SHA-512", 128}, {"SHA3-256", 64}, {"SHA3-512", 128},
    };
    const char *key;
    const json_t *m;
    size_t i;

    if (!json_is_object(v))
        return fail(c, "hashes must be a dictionary");
    if (json_object_size(v) == 0)
        return fail(c, "empty dictionary not allowed");
    json_object_foreach((json_t *)v, key, m)
    {
        const char *s = json_string_value(m);

        if (!dict_key_valid(key, 3))
            return fail_at(c, key, "hash name must be 3-250 characters of a-z, A-Z, 0-9, - and _");
        if (s == NULL || s[0] == '\0')
            return fail_at(c, key, "hash value must be a non-empty string");
        for (i = 0; i < CTIX_ARRAY_LEN(algos); i++) {
            if (strcmp(key, algos[i].name) == 0 &&
                (strlen(s) != algos[i].len || !hex_ci(s, algos[i].len)))
                return fail_at(c, key, "%s hash must be %zu hex digits (got \"%.140s\")", key,
                               algos[i].len, s);
        }
    }
    return CTIX_OK;
}

static enum ctix_rc check_selector(struct vctx *c, const char *sel)
{
    const json_t *cur = c->root;
    const char *p = sel;
    char comp[256];

    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);

        if (n == 0 || n >= sizeof(comp))
            return fail(c, "selector \"%.100s\" is malformed", sel);
        memcpy(comp, p, n);
        comp[n] = '\0';
        if (comp[0] == '[') {
            uint64_t idx;

            if (n < 3 || comp[n - 1] != ']')
                return fail(c, "selector \"%.100s\" is malformed", sel);
            comp[n - 1] = '\0';
            if (!json_is_array(cur) || !ctix_parse_u64(comp + 1, SIZE_MAX, &idx) ||
                idx >= json_array_size(cur))
                return fail(c, "selector \"%.100s\" does not point at content of the object", sel);
            cur = json_array_get(cur, (size_t)idx);
        } else {
            if (!json_is_object(cur) || json_object_get(cur, comp) == NULL)
                return fail(c, "selector \"%.100s\" does not point at content of the object", sel);
            cur = json_object_get(cur, comp);
        }
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    return CTIX_OK;
}

static enum ctix_rc check_granular(struct vctx *c, const json_t *g)
{
    const json_t *sels = json_object_get(g, "selectors"), *s;
    bool has_ref = json_object_get(g, "marking_ref") != NULL;
    bool has_lang = json_object_get(g, "lang") != NULL;
    enum ctix_rc rc = check_props(c, g, granular_props);
    size_t i;

    if (rc != CTIX_OK)
        return rc;
    if (has_ref == has_lang)
        return fail(c, "granular marking needs exactly one of marking_ref and lang");
    json_array_foreach(sels, i, s)
    {
        size_t old = path_push(c, "selectors");

        path_pushi(c, i);
        rc = check_selector(c, json_string_value(s));
        path_pop(c, old);
        if (rc != CTIX_OK)
            return rc;
    }
    return CTIX_OK;
}

static enum ctix_rc check_extref(struct vctx *c, const json_t *e)
{
    enum ctix_rc rc = check_props(c, e, extref_props);

    if (rc != CTIX_OK)
        return rc;
    if (json_object_get(e, "description") == NULL && json_object_get(e, "url") == NULL &&
        json_object_get(e, "external_id") == NULL)
        return fail(c, "external reference needs description, url or external_id besides "
                       "source_name");
    return CTIX_OK;
}

static enum ctix_rc check_extensions(struct vctx *c, const json_t *v)
{
    const char *key;
    const json_t *body;
    size_t i;

    if (!json_is_object(v))
        return fail(c, "must be a dictionary");
    if (json_object_size(v) == 0)
        return fail(c, "empty dictionary not allowed");
    json_object_foreach((json_t *)v, key, body)
    {
        size_t old = path_push(c, key);
        const struct prop *props = NULL;
        enum ctix_rc rc = CTIX_OK;

        if (!json_is_object(body) || json_object_size(body) == 0) {
            rc = fail(c, "extension must be a non-empty object");
        } else if (strncmp(key, "extension-definition--", 22) == 0) {
            const char *et = json_string_value(json_object_get(body, "extension_type"));

            if (!stix_id_valid(key, "extension-definition"))
                rc = fail(c, "not a valid extension-definition id");
            else if (et == NULL)
                rc = fail(c, "extension_type is required for an extension-definition extension");
            else if (!in_list(et, "new-sdo|new-sco|new-sro|property-extension|"
                                  "toplevel-property-extension"))
                rc = fail(c, "extension_type \"%.60s\" is not in extension-type-enum", et);
        } else {
            for (i = 0; i < CTIX_ARRAY_LEN(predef_exts); i++) {
                if (strcmp(key, predef_exts[i].key) == 0 &&
                    strcmp(c->type, predef_exts[i].type) == 0)
                    props = predef_exts[i].props;
            }
            /* Unknown keys are custom (2.0-style) extensions: kept, checked only for shape. */
            if (props != NULL)
                rc = check_props(c, body, props);
        }
        path_pop(c, old);
        if (rc != CTIX_OK)
            return rc;
    }
    return CTIX_OK;
}

static enum ctix_rc check_container(struct vctx *c, const json_t *v)
{
    const char *key;
    const json_t *o;

    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail(c, "must be a non-empty dictionary of cyber-observable objects");
    json_object_foreach((json_t *)v, key, o)
    {
        const char *t = json_string_value(json_object_get(o, "type"));

        if (t == NULL || !stix_type_valid(t))
            return fail_at(c, key, "contained object needs a valid type");
        if (stix_type_kind(t) != STIX_KIND_SCO && stix_type_kind(t) != STIX_KIND_CUSTOM)
            return fail_at(c, key, "contained object must be a cyber-observable, not %s", t);
    }
    return CTIX_OK;
}

static enum ctix_rc check_lccontents(struct vctx *c, const json_t *v)
{
    const char *key;
    const json_t *o;
    enum ctix_rc rc = check_dict(c, v);

    if (rc != CTIX_OK)
        return rc;
    json_object_foreach((json_t *)v, key, o)
    {
        if (!json_is_object(o) || json_object_size(o) == 0)
            return fail_at(c, key, "translations must be a non-empty dictionary");
    }
    return CTIX_OK;
}

/* Checks every element of the list v with the property p's element rule. */
static enum ctix_rc check_elems(struct vctx *c, const json_t *v, const struct prop *p)
{
    const json_t *e;
    size_t i;
    enum ctix_rc rc = check_list(c, v);

    json_array_foreach(v, i, e)
    {
        size_t old;

        if (rc != CTIX_OK)
            break;
        old = path_pushi(c, i);
        switch (p->t) {
        case T_REFS:
            rc = check_ref(c, e, p->arg);
            break;
        case T_STRS:
            if (!json_is_string(e))
                rc = fail(c, "must be a string");
            break;
        case T_ENUMS:
            if (!json_is_string(e) || !in_list(json_string_value(e), p->arg))
                rc = fail(c, "must be one of %s", p->arg);
            break;
        case T_KCPS:
            rc = json_is_object(e) ? check_props(c, e, kcp_props)
                                   : fail(c, "kill chain phase must be an object");
            break;
        case T_EXTREFS:
            rc = json_is_object(e) ? check_extref(c, e)
                                   : fail(c, "external reference must be an object");
            break;
        case T_GRANULAR:
            rc = json_is_object(e) ? check_granular(c, e)
                                   : fail(c, "granular marking must be an object");
            break;
        case T_OBJS:
            rc = json_is_object(e) && json_object_size(e) > 0
                     ? check_props(c, e, p->sub)
                     : fail(c, "must be a non-empty object");
            break;
        default:
            break;
        }
        path_pop(c, old);
    }
    return rc;
}

static enum ctix_rc check_value(struct vctx *c, const json_t *v, const struct prop *p)
{
    const char *s;
    double d;

    switch (p->t) {
    case T_STR:
        return json_is_string(v) ? CTIX_OK : fail(c, "must be a string");
    case T_BOOL:
        return json_is_boolean(v) ? CTIX_OK : fail(c, "must be a boolean");
    case T_INT:
        if (!json_is_integer(v))
            return fail(c, "must be an integer");
        d = (double)json_integer_value(v);
        if (d < p->min || d > p->max)
            return fail(c, "must be in %.0f..%.0f (got %lld)", p->min, p->max,
                        (long long)json_integer_value(v));
        return CTIX_OK;
    case T_FLOAT:
        if (!json_is_number(v))
            return fail(c, "must be a number");
        d = json_number_value(v);
        if (d < p->min || d > p->max)
            return fail(c, "must be in %g..%g (got %g)", p->min, p->max, d);
        return CTIX_OK;
    case T_TS:
        return check_ts(c, v, false);
    case T_TSMS:
        return check_ts(c, v, true);
    case T_REF:
        return check_ref(c, v, p->arg);
    case T_REFS:
    case T_STRS:
    case T_ENUMS:
    case T_KCPS:
    case T_EXTREFS:
    case T_GRANULAR:
    case T_OBJS:
        return check_elems(c, v, p);
    case T_DICT:
        return check_dict(c, v);
    case T_HASHES:
        return check_hashes(c, v);
    case T_HEX:
        s = json_string_value(v);
        if (s == NULL || !stix__hex_valid(s))
            return fail(c, "must be an even number of lowercase hex digits");
        return CTIX_OK;
    case T_BIN:
        s = json_string_value(v);
        if (s == NULL || !stix__base64_valid(s))
            return fail(c, "must be base64 (RFC 4648)");
        return CTIX_OK;
    case T_EXTENSIONS:
        return check_extensions(c, v);
    case T_ENUM:
        s = json_string_value(v);
        if (s == NULL || !in_list(s, p->arg))
            return fail(c, "must be one of %s", p->arg);
        return CTIX_OK;
    case T_OBJ:
        if (!json_is_object(v) || json_object_size(v) == 0)
            return fail(c, "must be a non-empty object");
        return check_props(c, v, p->sub);
    case T_ANYOBJ:
        return json_is_object(v) && json_object_size(v) > 0 ? CTIX_OK
                                                            : fail(c, "must be a non-empty object");
    case T_SPECVER:
        s = json_string_value(v);
        if (s == NULL || strcmp(s, "2.1") != 0)
            return fail(c, "must be \"2.1\" (got %s%.20s%s)", s != NULL ? "\"" : "",
                        s != NULL ? s : "a non-string", s != NULL ? "\"" : "");
        return CTIX_OK;
    case T_CONTAINER:
        return check_container(c, v);
    case T_LCCONTENTS:
        return check_lccontents(c, v);
    }
    return fail(c, "internal: unknown property type");
}

static const struct prop *prop_find(const struct prop *props, const char *name)
{
    for (; props->name != NULL; props++) {
        if (props->name[0] == name[0] && strcmp(props->name, name) == 0)
            return props;
    }
    return NULL;
}

/* Members of a sub-object: known ones by their rule, others must be custom property names. */
static enum ctix_rc check_props(struct vctx *c, const json_t *obj, const struct prop *props)
{
    const char *key;
    const json_t *v;
    const struct prop *p;
    enum ctix_rc rc = CTIX_OK;

    json_object_foreach((json_t *)obj, key, v)
    {
        size_t old = path_push(c, key);

        p = prop_find(props, key);
        if (p != NULL)
            rc = check_value(c, v, p);
        else if (!custom_name_valid(key))
            rc = fail(c, "unknown property name must be 3-250 characters of a-z, 0-9 and _");
        path_pop(c, old);
        if (rc != CTIX_OK)
            return rc;
    }
    for (p = props; p->name != NULL; p++) {
        if (p->req && json_object_get(obj, p->name) == NULL)
            return fail_at(c, p->name, "required property is missing");
    }
    return CTIX_OK;
}

/* ---- per-type rules ---- */

/* b must not be earlier than a (strictly later when strict); both optional. */
static enum ctix_rc check_order(struct vctx *c, const json_t *j, const char *a, const char *b,
                                bool strict)
{
    struct ctix_ts ta, tb;
    int cmp;

    if (stix_ts_parse(json_string_value(json_object_get(j, a)), false, &ta) != CTIX_OK ||
        stix_ts_parse(json_string_value(json_object_get(j, b)), false, &tb) != CTIX_OK)
        return CTIX_OK;
    cmp = ctix_ts_cmp(&tb, &ta);
    if (strict && cmp <= 0)
        return fail_at(c, b, "must be later than %s", a);
    if (cmp < 0)
        return fail_at(c, b, "must not be earlier than %s", a);
    return CTIX_OK;
}

static bool has(const json_t *j, const char *name)
{
    return json_object_get(j, name) != NULL;
}

static enum ctix_rc seen_check(struct vctx *c, const json_t *j)
{
    return check_order(c, j, "first_seen", "last_seen", false);
}

static enum ctix_rc indicator_check(struct vctx *c, const json_t *j)
{
    return check_order(c, j, "valid_from", "valid_until", true);
}

static enum ctix_rc location_check(struct vctx *c, const json_t *j)
{
    bool lat = has(j, "latitude"), lon = has(j, "longitude");

    if (lat != lon)
        return fail_at(c, lat ? "longitude" : "latitude",
                       "latitude and longitude must be given together");
    if (has(j, "precision") && !lat)
        return fail_at(c, "precision", "precision needs latitude and longitude");
    if (!lat && !has(j, "region") && !has(j, "country"))
        return fail(c, "location needs region, country, or latitude and longitude");
    return CTIX_OK;
}

static enum ctix_rc malware_check(struct vctx *c, const json_t *j)
{
    if (json_is_true(json_object_get(j, "is_family")) && !has(j, "name"))
        return fail_at(c, "name", "required property is missing (is_family is true)");
    return seen_check(c, j);
}

static enum ctix_rc malware_analysis_check(struct vctx *c, const json_t *j)
{
    if (!has(j, "result") && !has(j, "analysis_sco_refs"))
        return fail(c, "malware-analysis needs result or analysis_sco_refs");
    return CTIX_OK;
}

static enum ctix_rc observed_data_check(struct vctx *c, const json_t *j)
{
    const json_t *refs = json_object_get(j, "object_refs"), *r;
    bool any_sco = false;
    size_t i;

    if ((refs != NULL) == has(j, "objects"))
        return fail(c, "observed-data needs exactly one of object_refs and objects");
    json_array_foreach(refs, i, r)
    {
        enum stix_kind k;
        size_t tl;

        if (stix__id_kind(json_string_value(r), &k, &tl) &&
            (k == STIX_KIND_SCO || k == STIX_KIND_CUSTOM))
            any_sco = true;
    }
    if (refs != NULL && !any_sco)
        return fail_at(c, "object_refs", "must include at least one SCO");
    return check_order(c, j, "first_observed", "last_observed", false);
}

static enum ctix_rc relationship_check(struct vctx *c, const json_t *j)
{
    const char *rt = json_string_value(json_object_get(j, "relationship_type"));
    size_t i;

    for (i = 0; rt[i] != '\0'; i++) {
        if (!((rt[i] >= 'a' && rt[i] <= 'z') || (rt[i] >= '0' && rt[i] <= '9') || rt[i] == '-'))
            return fail_at(c, "relationship_type", "must be a-z, 0-9 and - (got \"%.60s\")", rt);
    }
    if (i == 0)
        return fail_at(c, "relationship_type", "must not be empty");
    return check_order(c, j, "start_time", "stop_time", true);
}

static enum ctix_rc artifact_check(struct vctx *c, const json_t *j)
{
    if (has(j, "payload_bin") == has(j, "url"))
        return fail(c, "artifact needs exactly one of payload_bin and url");
    if (has(j, "url") && !has(j, "hashes"))
        return fail_at(c, "hashes", "required property is missing (url is present)");
    if (has(j, "decryption_key") && !has(j, "encryption_algorithm"))
        return fail_at(c, "decryption_key", "only allowed with encryption_algorithm");
    return CTIX_OK;
}

static enum ctix_rc email_message_check(struct vctx *c, const json_t *j)
{
    bool multi = json_is_true(json_object_get(j, "is_multipart"));
    const json_t *parts = json_object_get(j, "body_multipart"), *p;
    size_t i;

    if (multi && has(j, "body"))
        return fail_at(c, "body", "only allowed when is_multipart is false");
    if (!multi && parts != NULL)
        return fail_at(c, "body_multipart", "only allowed when is_multipart is true");
    json_array_foreach(parts, i, p)
    {
        if (has(p, "body") == has(p, "body_raw_ref")) {
            size_t old = path_push(c, "body_multipart");
            enum ctix_rc rc;

            path_pushi(c, i);
            rc = fail(c, "MIME part needs exactly one of body and body_raw_ref");
            path_pop(c, old);
            return rc;
        }
    }
    return CTIX_OK;
}

static enum ctix_rc file_check(struct vctx *c, const json_t *j)
{
    if (!has(j, "hashes") && !has(j, "name"))
        return fail(c, "file needs hashes or name");
    return CTIX_OK;
}

static enum ctix_rc network_traffic_check(struct vctx *c, const json_t *j)
{
    if (!has(j, "src_ref") && !has(j, "dst_ref"))
        return fail(c, "network-traffic needs src_ref or dst_ref");
    if (has(j, "end") && json_is_true(json_object_get(j, "is_active")))
        return fail_at(c, "end", "not allowed when is_active is true");
    return check_order(c, j, "start", "end", false);
}

static enum ctix_rc sighting_check(struct vctx *c, const json_t *j)
{
    return seen_check(c, j);
}

static enum ctix_rc extension_definition_check(struct vctx *c, const json_t *j)
{
    const json_t *types = json_object_get(j, "extension_types"), *t;
    bool toplevel = false;
    size_t i;

    json_array_foreach(types, i, t)
    {
        if (json_is_string(t) && strcmp(json_string_value(t), "toplevel-property-extension") == 0)
            toplevel = true;
    }
    if (has(j, "extension_properties") && !toplevel)
        return fail_at(c, "extension_properties",
                       "only allowed with extension type toplevel-property-extension");
    return CTIX_OK;
}

static enum ctix_rc marking_definition_check(struct vctx *c, const json_t *j)
{
    const char *dt = json_string_value(json_object_get(j, "definition_type"));
    const json_t *def = json_object_get(j, "definition"), *r;
    const char *id = json_string_value(json_object_get(j, "id"));
    size_t i;

    if (dt == NULL && def != NULL)
        return fail_at(c, "definition_type",
                       "required property is missing (definition is "
                       "present)");
    if (dt != NULL && def == NULL)
        return fail_at(c, "definition",
                       "required property is missing (definition_type is "
                       "present)");
    if (dt == NULL && !has(j, "extensions"))
        return fail(c, "marking-definition needs definition_type and definition, or extensions");
    if (dt != NULL && strcmp(dt, "tlp") == 0) {
        const char *tlp = json_string_value(json_object_get(def, "tlp"));

        if (tlp == NULL || !in_list(tlp, "white|green|amber|red"))
            return fail_at(c, "definition", "tlp must be white, green, amber or red");
    } else if (dt != NULL && strcmp(dt, "statement") == 0) {
        if (!json_is_string(json_object_get(def, "statement")))
            return fail_at(c, "definition", "statement must be a string");
    }
    json_array_foreach(json_object_get(j, "object_marking_refs"), i, r)
    {
        if (id != NULL && json_is_string(r) && strcmp(json_string_value(r), id) == 0)
            return fail_at(c, "object_marking_refs", "a marking definition must not mark itself");
    }
    return CTIX_OK;
}

/* Sorted by type (strcmp) for bsearch; validate_test checks the order. */
static const struct tspec tspecs[] = {
    {"artifact", CAT_SCO, artifact, artifact_check, false},
    {"attack-pattern", CAT_SDO, attack_pattern, NULL, false},
    {"autonomous-system", CAT_SCO, autonomous_system, NULL, false},
    {"campaign", CAT_SDO, campaign, seen_check, false},
    {"course-of-action", CAT_SDO, course_of_action, NULL, false},
    {"directory", CAT_SCO, directory, NULL, false},
    {"domain-name", CAT_SCO, domain_name, NULL, false},
    {"email-addr", CAT_SCO, email_addr, NULL, false},
    {"email-message", CAT_SCO, email_message, email_message_check, false},
    {"extension-definition", CAT_EXTDEF, extension_definition, extension_definition_check, false},
    {"file", CAT_SCO, file, file_check, false},
    {"grouping", CAT_SDO, grouping, NULL, false},
    {"identity", CAT_SDO, identity, NULL, false},
    {"incident", CAT_SDO, incident, NULL, false},
    {"indicator", CAT_SDO, indicator, indicator_check, false},
    {"infrastructure", CAT_SDO, infrastructure, seen_check, false},
    {"intrusion-set", CAT_SDO, intrusion_set, seen_check, false},
    {"ipv4-addr", CAT_SCO, ip_addr, NULL, false},
    {"ipv6-addr", CAT_SCO, ip_addr, NULL, false},
    {"language-content", CAT_LANG, language_content, NULL, false},
    {"location", CAT_SDO, location, location_check, false},
    {"mac-addr", CAT_SCO, mac_addr, NULL, false},
    {"malware", CAT_SDO, malware, malware_check, false},
    {"malware-analysis", CAT_SDO, malware_analysis, malware_analysis_check, false},
    {"marking-definition", CAT_MARK, marking_definition, marking_definition_check, false},
    {"mutex", CAT_SCO, mutex, NULL, false},
    {"network-traffic", CAT_SCO, network_traffic, network_traffic_check, false},
    {"note", CAT_SDO, note, NULL, false},
    {"observed-data", CAT_SDO, observed_data, observed_data_check, false},
    {"opinion", CAT_SDO, opinion, NULL, false},
    {"process", CAT_SCO, process, NULL, true},
    {"relationship", CAT_SRO, relationship, relationship_check, false},
    {"report", CAT_SDO, report, NULL, false},
    {"sighting", CAT_SRO, sighting, sighting_check, false},
    {"software", CAT_SCO, software, NULL, false},
    {"threat-actor", CAT_SDO, threat_actor, seen_check, false},
    {"tool", CAT_SDO, tool, NULL, false},
    {"url", CAT_SCO, url, NULL, false},
    {"user-account", CAT_SCO, user_account, NULL, true},
    {"vulnerability", CAT_SDO, vulnerability, NULL, false},
    {"windows-registry-key", CAT_SCO, registry_key, NULL, true},
    {"x509-certificate", CAT_SCO, x509_certificate, NULL, true},
};

static int tspec_cmp(const void *k, const void *e)
{
    return strcmp(k, ((const struct tspec *)e)->type);
}

bool stix__tspecs_sorted(void)
{
    size_t i;

    for (i = 1; i < CTIX_ARRAY_LEN(tspecs); i++) {
        if (strcmp(tspecs[i - 1].type, tspecs[i].type) >= 0)
            return false;
    }
    return CTIX_ARRAY_LEN(tspecs) == 42;
}

/* ---- the whole object ---- */

/* JSON null is never a STIX value, at any depth. (Empty lists and dictionaries are refused where
 * the specification types a property as one, and at the top level of custom properties, but not
 * deep inside custom values, whose shape only their producer defines: ATT&CK's
 * x_mitre_related_assets holds empty related_asset_sectors lists.) */
static enum ctix_rc scan_nulls(struct vctx *c, const json_t *v)
{
    const char *key;
    const json_t *m;
    size_t i;
    enum ctix_rc rc = CTIX_OK;

    switch (json_typeof(v)) {
    case JSON_NULL:
        return fail(c, "null is not a valid STIX value (omit the property)");
    case JSON_OBJECT:
        json_object_foreach((json_t *)v, key, m)
        {
            size_t old;

            if (!json_is_object(m) && !json_is_array(m) && !json_is_null(m))
                continue;
            old = path_push(c, key);
            rc = scan_nulls(c, m);
            path_pop(c, old);
            if (rc != CTIX_OK)
                return rc;
        }
        break;
    case JSON_ARRAY:
        json_array_foreach(v, i, m)
        {
            size_t old;

            if (!json_is_object(m) && !json_is_array(m) && !json_is_null(m))
                continue;
            old = path_pushi(c, i);
            rc = scan_nulls(c, m);
            path_pop(c, old);
            if (rc != CTIX_OK)
                return rc;
        }
        break;
    default:
        break;
    }
    return rc;
}

static const struct common *common_find(const char *name)
{
    size_t i;

    for (i = 0; i < CTIX_ARRAY_LEN(commons); i++) {
        if (commons[i].p.name[0] == name[0] && strcmp(commons[i].p.name, name) == 0)
            return &commons[i];
    }
    return NULL;
}

static bool reserved(const char *name)
{
    return strcmp(name, "severity") == 0 || strcmp(name, "username") == 0 ||
           strcmp(name, "phone_number") == 0 || strcmp(name, "action") == 0;
}

static enum ctix_rc check_members(struct vctx *c, const json_t *j, const struct tspec *ts,
                                  enum cat cat)
{
    const struct prop *props = ts != NULL ? ts->props : NULL;
    const char *key;
    const json_t *v;
    size_t i, n_specific = 0;
    uint64_t seen_p = 0, seen_c = 0; /* members found, by table index: no lookups afterwards */
    enum ctix_rc rc = CTIX_OK;

    json_object_foreach((json_t *)j, key, v)
    {
        const struct prop *p = props != NULL ? prop_find(props, key) : NULL;
        const struct common *cm = NULL;
        size_t old, klen;

        if (strcmp(key, "type") == 0 || strcmp(key, "id") == 0)
            continue;
        old = path_push(c, key);
        if (p == NULL)
            cm = common_find(key);
        if (p != NULL) {
            n_specific++;
            seen_p |= (uint64_t)1 << (p - props);
            rc = check_value(c, v, p);
        } else if (cm != NULL) {
            seen_c |= (uint64_t)1 << (cm - commons);
            if (cm->use[cat] == '-')
                rc = fail(c, "not allowed on %s", cat_names[cat]);
            else
                rc = check_value(c, v, &cm->p);
            if (strcmp(key, "extensions") == 0)
                n_specific++;
        } else if (reserved(key)) {
            rc = fail(c, "reserved property name must not be used");
        } else if (!custom_name_valid(key)) {
            rc = fail(c, "custom property name must be 3-250 characters of a-z, 0-9 and _");
        } else if ((json_is_array(v) && json_array_size(v) == 0) ||
                   (json_is_object(v) && json_object_size(v) == 0)) {
            rc = fail(c, "empty list or dictionary not allowed (omit the property)");
        }
        klen = strlen(key);
        if (rc == CTIX_OK && klen > 4 && strcmp(key + klen - 4, "_enc") == 0 &&
            json_object_getn(j, key, klen - 4) == NULL)
            rc = fail(c, "needs its base property %.*s", (int)(klen - 4), key);
        path_pop(c, old);
        if (rc != CTIX_OK)
            return rc;
    }
    for (i = 0; i < CTIX_ARRAY_LEN(commons); i++) {
        if (commons[i].use[cat] == 'R' && !(seen_c & ((uint64_t)1 << i)))
            return fail_at(c, commons[i].p.name, "required property is missing");
    }
    for (i = 0; props != NULL && props[i].name != NULL; i++) {
        if (props[i].req && !(seen_p & ((uint64_t)1 << i)))
            return fail_at(c, props[i].name, "required property is missing");
    }
    if (ts != NULL && ts->needs_one && n_specific == 0)
        return fail(c, "%s needs at least one of its properties", ts->type);
    return CTIX_OK;
}

enum ctix_rc stix_validate(const json_t *j, struct ctix_diag *diag)
{
    struct vctx c = {.diag = diag};
    const struct tspec *ts;
    const char *type, *id;
    enum cat cat;
    enum ctix_rc rc = CTIX_EINVAL;

    c.root = j;
    c.path[0] = '\0';
    ctix_diag_clear(diag);
    if (!json_is_object(j)) {
        rc = fail(&c, "a STIX object must be a JSON object");
        goto out;
    }
    rc = scan_nulls(&c, j);
    if (rc != CTIX_OK)
        goto out;
    rc = CTIX_EINVAL;
    type = json_string_value(json_object_get(j, "type"));
    if (type == NULL) {
        fail_at(&c, "type",
                json_object_get(j, "type") == NULL ? "required property is missing"
                                                   : "must be a string");
        goto out;
    }
    if (!stix_type_valid(type)) {
        fail_at(&c, "type", "not a valid type name (got \"%.60s\")", type);
        goto out;
    }
    if (strcmp(type, "bundle") == 0) {
        fail_at(&c, "type", "a bundle is a container, not a STIX object");
        goto out;
    }
    c.type = type;
    id = json_string_value(json_object_get(j, "id"));
    if (id == NULL) {
        fail_at(&c, "id",
                json_object_get(j, "id") == NULL ? "required property is missing"
                                                 : "must be a string");
        goto out;
    }
    if (!stix_id_valid(id, NULL)) {
        fail_at(&c, "id", "not a valid identifier \"type--UUID\" (got \"%.80s\")", id);
        goto out;
    }
    if (!stix_id_valid(id, type)) {
        fail_at(&c, "id", "prefix must equal the type \"%.60s\" (got \"%.80s\")", type, id);
        goto out;
    }
    ts = bsearch(type, tspecs, CTIX_ARRAY_LEN(tspecs), sizeof(tspecs[0]), tspec_cmp);
    cat = ts != NULL ? ts->cat : CAT_CUSTOM;
    rc = check_members(&c, j, ts, cat);
    if (rc != CTIX_OK)
        goto out;
    rc = check_order(&c, j, "created", "modified", false);
    if (rc != CTIX_OK)
        goto out;
    if (ts != NULL && ts->check != NULL)
        rc = ts->check(&c, j);
out:
    return rc;
}
