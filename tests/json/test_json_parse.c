/* The parser: accept/reject cases for every rule of RFC 8259 and every
   opt-in relaxation, error positions and messages, invalid UTF-8 of every
   class, NUL bytes, deep nesting, truncation at every offset, arenas. */
#include <math.h>

#include "checked_alloc.h"
#include "data_file.h"
#include "zmem/json.h"
#include "json_eq.h"

/* A case: text (with its length, so that NUL bytes count), parse flags, and
   the expected status; for some, where the error is and what it says. */
typedef struct pcase {
    const char *text;
    size_t len;
    uint32_t flags;
    zm_status want;
    size_t line, column; /* 0: not checked */
    const char *msg;     /* a substring of the message; NULL: not checked */
} pcase;

#define T(s) s, sizeof(s) - 1
#define Y(s)                                                                                       \
    { T(s), 0, ZM_OK, 0, 0, NULL }
#define N(s)                                                                                       \
    { T(s), 0, ZM_ESYNTAX, 0, 0, NULL }
#define YF(s, f)                                                                                   \
    { T(s), f, ZM_OK, 0, 0, NULL }
#define NF(s, f)                                                                                   \
    { T(s), f, ZM_ESYNTAX, 0, 0, NULL }
#define NE(s, l, c, m)                                                                             \
    { T(s), 0, ZM_ESYNTAX, l, c, m }

static const pcase cases[] = {
    /* ---- y_: structure ---- */
    Y("[]"),
    Y("{}"),
    Y("[[]]"),
    Y("[{}]"),
    Y("{\"a\":{}}"),
    Y("[[[[[[]]]]]]"),
    Y("[1,2,3]"),
    Y("[\"a\",1,true,false,null,{},[]]"),
    Y("{\"a\":1,\"b\":2}"),
    Y("{\"a\":[1,{\"b\":null}]}"),
    Y(" [ 1 , 2 ] "),
    Y("\t\r\n[\t\r\n]\t\r\n"),
    Y("{ \"a\" : 1 , \"b\" : [ ] }"),
    Y("[\n  1,\n  2\n]"),
    Y("{\"\":0}"),
    Y("{\"a\":0,\"A\":1}"),
    Y("{\"a\":0,\"a \":1}"),
    Y("{\"ab\":0,\"a\":1,\"b\":2}"),
    /* ---- y_: scalars at the root (RFC 8259 allows any value) ---- */
    Y("1"),
    Y("-1"),
    Y("\"x\""),
    Y("true"),
    Y("false"),
    Y("null"),
    Y(" 0 "),
    Y("\"\""),
    /* ---- y_: numbers ---- */
    Y("[0]"),
    Y("[-0]"),
    Y("[0.0]"),
    Y("[-0.0]"),
    Y("[1e5]"),
    Y("[1E5]"),
    Y("[1e+5]"),
    Y("[1e-5]"),
    Y("[1.5e+10]"),
    Y("[0e0]"),
    Y("[0.5]"),
    Y("[-0.5]"),
    Y("[123456789]"),
    Y("[9223372036854775807]"),
    Y("[-9223372036854775808]"),
    Y("[9223372036854775808]"),
    Y("[123456789012345678901234567890]"),
    Y("[1e999]"),
    Y("[-1e999]"),
    Y("[1e-999]"),
    Y("[1.7976931348623157e308]"),
    Y("[4.9e-324]"),
    Y("[2.2250738585072014e-308]"),
    Y("[0.000000000000000000000000000001]"),
    Y("[1E00]"),
    Y("[1e0000000000000000000001]"),
    Y("[100000000000000000000000000000000000000000000e-40]"),
    /* ---- y_: strings ---- */
    Y("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"),
    Y("[\"\\u0041\"]"),
    Y("[\"\\u00e9\\u00E9\"]"),
    Y("[\"\\u20ac\"]"),
    Y("[\"\\ud83d\\ude00\"]"),
    Y("[\"\\uD834\\uDD1E\"]"),
    Y("[\"\\u0000\"]"),
    Y("[\"\\uffff\"]"),
    Y("[\"\\ufeff\"]"),
    Y("[\"/\"]"),
    Y("[\"\x7f\"]"),
    Y("[\"a b\"]"),
    Y("[\"\xc3\xa9\"]"),
    Y("[\"\xe2\x82\xac\"]"),
    Y("[\"\xf0\x9f\x98\x80\"]"),
    Y("[\"\xc2\x80\"]"),
    Y("[\"\xdf\xbf\"]"),
    Y("[\"\xe0\xa0\x80\"]"),
    Y("[\"\xef\xbf\xbf\"]"),
    Y("[\"\xed\x9f\xbf\"]"),
    Y("[\"\xee\x80\x80\"]"),
    Y("[\"\xf0\x90\x80\x80\"]"),
    Y("[\"\xf4\x8f\xbf\xbf\"]"),
    Y("[\"\xef\xbb\xbf\"]"),
    Y("[\"0123456789abcdef0123456789\"]"),
    Y("[\"a\\nb\\u00e9\xc3\xa9\\ud83d\\ude00z\"]"),
    Y("{\"\\u0061\":1}"),
    Y("[\"\\\\u0041\"]"),
    /* ---- n_: structure ---- */
    N(""),
    N(" "),
    N("\n\t"),
    N("["),
    N("]"),
    N("{"),
    N("}"),
    N("[1"),
    N("[1,"),
    N("{\"a\""),
    N("{\"a\":"),
    N("{\"a\":1"),
    N("{\"a\":1,"),
    N("[1,]"),
    N("[,1]"),
    N("[,]"),
    N("[1,,2]"),
    N("{,}"),
    N("{\"a\":1,}"),
    N("{\"a\" 1}"),
    N("{\"a\"::1}"),
    N("{\"a\":1 \"b\":2}"),
    N("{1:1}"),
    N("{a:1}"),
    N("{'a':1}"),
    N("{\"a\":1]"),
    N("[1}"),
    N("[1 2]"),
    N("[]]"),
    N("[][]"),
    N("{}{}"),
    N("[1] 2"),
    N("1 2"),
    N("[1]x"),
    N("[1]\x00"),
    N("\x00[1]"),
    N("[1,\x00 2]"),
    N("[\x00]"),
    N("{\"a\":1}}"),
    N("[\"a\":1]"),
    N("{\"a\",1}"),
    N("{null:1}"),
    N("[:]"),
    N("{:1}"),
    /* ---- n_: literals ---- */
    N("tru"),
    N("[tru]"),
    N("[True]"),
    N("[FALSE]"),
    N("[nul]"),
    N("[nulll]"),
    N("[truee]"),
    N("[NaN]"),
    N("[Infinity]"),
    N("[-Infinity]"),
    N("[nan]"),
    N("[undefined]"),
    /* ---- n_: numbers ---- */
    N("[01]"),
    N("[00]"),
    N("[-01]"),
    N("[1.]"),
    N("[.5]"),
    N("[+1]"),
    N("[-]"),
    N("[--1]"),
    N("[1e]"),
    N("[1e+]"),
    N("[1E-]"),
    N("[1.e5]"),
    N("[0x10]"),
    N("[1_000]"),
    N("[1,000.0.0]"),
    N("[- 1]"),
    N("[1.5e]"),
    N("[0.]"),
    N("[-.5]"),
    N("[1e5.5]"),
    N("[.]"),
    N("[e5]"),
    N("[1ee5]"),
    N("[2.]"),
    N("[012.5]"),
    /* ---- n_: strings ---- */
    N("[\"abc]"),
    N("[\"abc"),
    N("\""),
    N("[\"\\\"]"),
    N("[\"\\x41\"]"),
    N("[\"\\a\"]"),
    N("[\"\\'\"]"),
    N("[\"\\u12\"]"),
    N("[\"\\u12G4\"]"),
    N("[\"\\u\"]"),
    N("[\"\\U0041\"]"),
    N("[\"\\ud800\"]"),
    N("[\"\\udc00\"]"),
    N("[\"\\ud800\\u0041\"]"),
    N("[\"\\ud800\\ud800\"]"),
    N("[\"\\ud800x\"]"),
    N("[\"\\udfff\\ud800\"]"),
    N("[\"a\tb\"]"),
    N("[\"a\nb\"]"),
    N("[\"\x01\"]"),
    N("[\"\x1f\"]"),
    N("[\"a\x00b\"]"),
    N("['a']"),
    N("[\"\\"),
    N("[\"\\u00"),
    N("[\"\\\xc3\xa9\"]"),
    /* ---- n_: invalid UTF-8, every class ---- */
    N("[\"\x80\"]"),
    N("[\"\xbf\"]"), /* stray continuation */
    N("[\"\xc0\x80\"]"),
    N("[\"\xc1\xbf\"]"), /* overlong 2 */
    N("[\"\xe0\x80\x80\"]"),
    N("[\"\xe0\x9f\xbf\"]"), /* overlong 3 */
    N("[\"\xf0\x80\x80\x80\"]"),
    N("[\"\xf0\x8f\xbf\xbf\"]"), /* overlong 4 */
    N("[\"\xed\xa0\x80\"]"),
    N("[\"\xed\xbf\xbf\"]"),             /* surrogates */
    N("[\"\xed\xa0\xbd\xed\xb8\x80\"]"), /* CESU-8 pair */
    N("[\"\xf4\x90\x80\x80\"]"),
    N("[\"\xf5\x80\x80\x80\"]"),
    N("[\"\xf7\xbf\xbf\xbf\"]"), /* > 10FFFF */
    N("[\"\xf8\x88\x80\x80\x80\"]"),
    N("[\"\xfe\"]"),
    N("[\"\xff\"]"), /* never UTF-8 */
    N("[\"\xc2\"]"),
    N("[\"\xc2"),
    N("[\"\xe2\x82\"]"),
    N("[\"\xf0\x9f\x98\"]"), /* truncated */
    N("[\"\xc2\x41\"]"),
    N("[\"\xe2\x41\x82\"]"),
    N("[\"\xf0\x9f\x41\x80\"]"),
    N("[\"\xe2\x82\xc2\x80\"]"),
    /* after valid 3-byte characters (read two at a time) */
    N("[\"\xe2\x82\xac\xe0\x80\x80\"]"),
    N("[\"\xe2\x82\xac\xed\xa0\x80\"]"),
    N("[\"\xe2\x82\xac\xe2\x82\xac\xed\xbf\xbf\"]"),
    N("[\"\xe2\x82\xac\xe2\x82\"]"),
    N("[\"\xe2\x82\xac\xe2\x82\xac\xe2\"]"),
    N("[\"\xe3\x81\x82\xe3\x81\xff\"]"),
    Y("[\"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xef\xbf\xbf\xee\x80\x80\xed\x9f\xbf\"]"),
    Y("[\"\xe3\x81\x82"
      "a\xe3\x81\x82\xf0\x9f\x98\x80\xe3\x81\x82\"]"),
    N("\xc3\xa9"),
    N("[\xc3\xa9]"),
    N("{\"\xff\":1}"),
    /* ---- n_: byte order mark without the flag, and in the wrong place ---- */
    N("\xef\xbb\xbf[1]"),
    NF("[1]\xef\xbb\xbf", ZM_JSON_ALLOW_BOM),
    NF("\xef\xbb", ZM_JSON_ALLOW_BOM),
    /* ---- n_: comments without the flag ---- */
    N("[1 /* c */]"),
    N("[1] // c"),
    N("/**/[1]"),
    /* ---- duplicates (error by default) ---- */
    N("{\"a\":1,\"a\":2}"),
    N("{\"a\":1,\"b\":2,\"a\":3}"),
    N("{\"\":1,\"\":2}"),
    N("{\"x\":{\"a\":1,\"a\":1}}"),
    N("{\"\\u0061\":1,\"a\":2}"),
    /* ---- relaxations, with their flags ---- */
    YF("[1 /* c */, // line\n 2]", ZM_JSON_ALLOW_COMMENTS),
    YF("/* a */ {\"a\" /*b*/ : /*c*/ 1} // end", ZM_JSON_ALLOW_COMMENTS),
    YF("[1, /* c */ 2, // d\n 3]", ZM_JSON_ALLOW_COMMENTS),
    YF("{\"a\" : 1, /**/\"b\" :/**/ 2, \"c\" : /**/3 }", ZM_JSON_ALLOW_COMMENTS),
    NF("[1, /* c */ 2]", 0),
    NF("{\"a\" : 1, /**/\"b\": 2}", 0),
    YF("[1]//", ZM_JSON_ALLOW_COMMENTS),
    YF("[1]/**/", ZM_JSON_ALLOW_COMMENTS),
    YF("/*x*//*y*/[/**/]", ZM_JSON_ALLOW_COMMENTS),
    NF("[1 /* c ]", ZM_JSON_ALLOW_COMMENTS),
    NF("[1 / 2]", ZM_JSON_ALLOW_COMMENTS),
    NF("[1] /", ZM_JSON_ALLOW_COMMENTS),
    NF("/*", ZM_JSON_ALLOW_COMMENTS),
    NF("//", ZM_JSON_ALLOW_COMMENTS),
    YF("[1,]", ZM_JSON_ALLOW_TRAILING_COMMAS),
    YF("{\"a\":1,}", ZM_JSON_ALLOW_TRAILING_COMMAS),
    YF("[[1,],{\"a\":[],},]", ZM_JSON_ALLOW_TRAILING_COMMAS),
    NF("[,]", ZM_JSON_ALLOW_TRAILING_COMMAS),
    NF("[1,,]", ZM_JSON_ALLOW_TRAILING_COMMAS),
    NF("{,}", ZM_JSON_ALLOW_TRAILING_COMMAS),
    NF("[1],", ZM_JSON_ALLOW_TRAILING_COMMAS),
    YF("[NaN,Infinity,-Infinity]", ZM_JSON_ALLOW_NAN_INF),
    YF("NaN", ZM_JSON_ALLOW_NAN_INF),
    NF("[nan]", ZM_JSON_ALLOW_NAN_INF),
    NF("[+Infinity]", ZM_JSON_ALLOW_NAN_INF),
    NF("[Infinit]", ZM_JSON_ALLOW_NAN_INF),
    NF("[-NaN]", ZM_JSON_ALLOW_NAN_INF),
    YF("\xef\xbb\xbf[1]", ZM_JSON_ALLOW_BOM),
    YF("\xef\xbb\xbf 1 ", ZM_JSON_ALLOW_BOM),
    YF("[1]", ZM_JSON_ALLOW_BOM),
    NF("\xef\xbb\xbf", ZM_JSON_ALLOW_BOM),
    NF("\xef\xbb\xbf\xef\xbb\xbf[]", ZM_JSON_ALLOW_BOM),
    YF("[\"\\ud800\"]", ZM_JSON_ALLOW_LONE_SURROGATES),
    YF("[\"\\udc00\"]", ZM_JSON_ALLOW_LONE_SURROGATES),
    YF("[\"\\ud800\\u0041\"]", ZM_JSON_ALLOW_LONE_SURROGATES),
    YF("[\"\\ud800\\ud800\\udc00\"]", ZM_JSON_ALLOW_LONE_SURROGATES),
    NF("[\"\xed\xa0\x80\"]", ZM_JSON_ALLOW_LONE_SURROGATES), /* raw encoded ones stay invalid */
    NF("[\"\\ud800\\u12\"]", ZM_JSON_ALLOW_LONE_SURROGATES),
    YF("[1,2.5,1e999,-0]", ZM_JSON_NUMBERS_AS_TEXT),
    NF("[01]", ZM_JSON_NUMBERS_AS_TEXT),
    /* ---- positions and messages ---- */
    NE("", 1, 1, "expected a JSON value, found the end of the input"),
    NE("[1,2", 1, 5, "expected ',' or ']' after an array item, found the end of the input"),
    NE("{\"a\":1 ]", 1, 8, "expected ',' or '}' after an object member, found ']'"),
    NE("{\n  \"a\": 1,\n  \"b\" 2\n}", 3, 7, "expected ':' after an object key, found '2'"),
    NE("{\"a\" ; 1}", 1, 6, "expected ':' after an object key, found ';'"),
    NE("{\"a\" :: 1}", 1, 7, "expected a value, found ':'"),
    NE("{\"a\" :", 1, 7, "expected a value, found the end of the input"),
    NE("[1,\n2,\n]", 3, 1, "expected a value, found ']'"),
    NE("{\"a\":1,}", 1, 8, "expected a string key after ',', found '}'"),
    NE("{]", 1, 2, "expected a string key or '}' after '{', found ']'"),
    NE("[1] [2]", 1, 5, "expected the end of the input after the JSON value, found '['"),
    NE("[tru]", 1, 2, "expected a value, found 'tru'"),
    NE("[01]", 1, 3, "leading zeros are not allowed"),
    NE("[1.]", 1, 4, "expected a digit after '.', found ']'"),
    NE("[-]", 1, 3, "expected a digit after '-', found ']'"),
    NE("[1e+]", 1, 5, "expected a digit in the exponent, found ']'"),
    NE("[\"abc", 1, 6, "expected '\"' to close the string, found the end of the input"),
    NE("[\"a\tb\"]", 1, 4, "control character U+0009 in a string"),
    NE("[\"\\x\"]", 1, 3, "invalid escape: expected one of"),
    NE("[\"\\u12x4\"]", 1, 7, "expected 4 hex digits after \\u, found 'x'"),
    NE("[\"ab\\ud800\"]", 1, 5, "unpaired high surrogate \\ud800"),
    NE("[\"\\udc00\"]", 1, 3, "unpaired low surrogate \\udc00"),
    NE("[\"\xc0\x80\"]", 1, 3, "invalid UTF-8 in a string (byte 0xC0): an overlong encoding"),
    NE("[\"\xed\xa0\x80\"]", 1, 3, "encoded UTF-16 surrogate"),
    NE("[\"\xf4\x90\x80\x80\"]", 1, 3, "above U+10FFFF"),
    NE("[\"\xe2\x82\"]", 1, 3, "truncated"),
    NE("[\"\x80\"]", 1, 3, "a continuation byte without a lead byte"),
    NE("[\"\xff\"]", 1, 3, "a byte that never occurs in UTF-8"),
    NE("{\"k\":1,\n \"k\":2}", 2, 2, "duplicate key \"k\""),
    NE("[1,\x00]", 1, 4, "expected a value, found a NUL byte"),
    NE("\xef\xbb\xbf{}", 1, 1, "byte order mark"),
    NE("\n\n  @", 3, 3, "expected a JSON value, found '@'"),
    {T("[1 /* x"), ZM_JSON_ALLOW_COMMENTS, ZM_ESYNTAX, 1, 4, "unterminated /* comment"},
};

static void test_cases(void) {
    size_t n = sizeof cases / sizeof *cases, accepted = 0, rejected = 0;
    zm_allocator a = zm_default_allocator();
    for (size_t i = 0; i < n; i++) {
        const pcase *c = &cases[i];
        zm_json_parse_opts o = {c->flags, 0, ZM_JSON_DUP_ERROR};
        zm_json_doc *doc = (zm_json_doc *)1;
        zm_json_error e;
        zm_status st = zm_json_parse(a, c->text, c->len, &o, &doc, &e);
        bool ok = st == c->want && e.status == st && (st == ZM_OK) == (doc != NULL);
        if (st != ZM_OK && c->line) ok = ok && e.line == c->line && e.column == c->column;
        if (st != ZM_OK && c->msg) ok = ok && strstr(e.message, c->msg) != NULL;
        if (st != ZM_OK) ok = ok && e.message[0] != '\0' && e.offset <= c->len;
        if (!ok) {
            fprintf(stderr, "case %zu \"%.*s\": status %d (want %d), %zu:%zu, \"%s\"\n", i,
                    (int)c->len, c->text, (int)st, (int)c->want, e.line, e.column, e.message);
        }
        CHECK(ok);
        if (st == ZM_OK)
            accepted++;
        else
            rejected++;
        zm_json_doc_free(doc);
        /* The same through a caller's arena. */
        zm_arena ar;
        zm_arena_init(&ar, a);
        zm_json *root = NULL;
        CHECK(zm_json_parse_arena(&ar, c->text, c->len, &o, &root, NULL) == c->want);
        if (c->want != ZM_OK) CHECK(zm_arena_used(&ar) == 0);
        zm_arena_deinit(&ar);
    }
    CHECK(n >= 150);
    CHECK(accepted > 60 && rejected > 90);
}

/* Parses text (strict unless flags) into a fresh document; NULL on failure. */
static zm_json_doc *parse(const char *text, size_t len, uint32_t flags) {
    zm_json_parse_opts o = {flags, 0, ZM_JSON_DUP_ERROR};
    zm_json_doc *doc = NULL;
    zm_json_error e;
    if (zm_json_parse(zm_default_allocator(), text, len, &o, &doc, &e) != ZM_OK) {
        fprintf(stderr, "parse failed: %s\n", e.message);
        return NULL;
    }
    return doc;
}

/* Refusals that an option would accept: the error names the option (a
   machine-readable field, and a note at the end of the message that starts at
   note_at), and the option, given, accepts the text. */
typedef struct ocase {
    const char *text;
    zm_json_option option;
    zm_json_parse_opts accept; /* opts that accept text */
    const char *note;          /* the message from note_at on */
} ocase;

static void test_option_notes(void) {
    static char deep[514]; /* one level past the default limit, never closed */
    memset(deep, '[', 513);
    const ocase ocases[] = {
        {"[1, // c\n 2]",
         ZM_JSON_OPTION_COMMENTS,
         {ZM_JSON_ALLOW_COMMENTS, 0, 0},
         " (ZM_JSON_ALLOW_COMMENTS accepts comments)"},
        {"/* c */ 1", ZM_JSON_OPTION_COMMENTS, {ZM_JSON_ALLOW_COMMENTS, 0, 0}, NULL},
        {"{/* c */}", ZM_JSON_OPTION_COMMENTS, {ZM_JSON_ALLOW_COMMENTS, 0, 0}, NULL},
        {"{\"a\" /* c */ : 1}", ZM_JSON_OPTION_COMMENTS, {ZM_JSON_ALLOW_COMMENTS, 0, 0}, NULL},
        {"{\"a\": 1 /* c */}", ZM_JSON_OPTION_COMMENTS, {ZM_JSON_ALLOW_COMMENTS, 0, 0}, NULL},
        {"1 // c", ZM_JSON_OPTION_COMMENTS, {ZM_JSON_ALLOW_COMMENTS, 0, 0}, NULL},
        {"[1,2,]",
         ZM_JSON_OPTION_TRAILING_COMMAS,
         {ZM_JSON_ALLOW_TRAILING_COMMAS, 0, 0},
         " (ZM_JSON_ALLOW_TRAILING_COMMAS accepts it)"},
        {"{\"a\":1,\n}",
         ZM_JSON_OPTION_TRAILING_COMMAS,
         {ZM_JSON_ALLOW_TRAILING_COMMAS, 0, 0},
         NULL},
        {"[NaN]",
         ZM_JSON_OPTION_NAN_INF,
         {ZM_JSON_ALLOW_NAN_INF, 0, 0},
         " (ZM_JSON_ALLOW_NAN_INF accepts it)"},
        {"Infinity", ZM_JSON_OPTION_NAN_INF, {ZM_JSON_ALLOW_NAN_INF, 0, 0}, NULL},
        {"[1,-Infinity]", ZM_JSON_OPTION_NAN_INF, {ZM_JSON_ALLOW_NAN_INF, 0, 0}, NULL},
        {"\xef\xbb\xbf[]",
         ZM_JSON_OPTION_BOM,
         {ZM_JSON_ALLOW_BOM, 0, 0},
         " (ZM_JSON_ALLOW_BOM accepts it)"},
        {"[\"\\ud800\"]",
         ZM_JSON_OPTION_LONE_SURROGATES,
         {ZM_JSON_ALLOW_LONE_SURROGATES, 0, 0},
         " (ZM_JSON_ALLOW_LONE_SURROGATES accepts it)"},
        {"{\"\\udc00\":1}",
         ZM_JSON_OPTION_LONE_SURROGATES,
         {ZM_JSON_ALLOW_LONE_SURROGATES, 0, 0},
         NULL},
        {"{\"k\":1,\"k\":2}",
         ZM_JSON_OPTION_DUP_KEYS,
         {0, 0, ZM_JSON_DUP_LAST},
         " (ZM_JSON_DUP_FIRST or ZM_JSON_DUP_LAST accept them)"},
        {"{\"k\":1,\"k\":2}", ZM_JSON_OPTION_DUP_KEYS, {0, 0, ZM_JSON_DUP_FIRST}, NULL},
        {deep, ZM_JSON_OPTION_MAX_DEPTH, {0, 513, 0}, " (a larger max_depth accepts it)"},
    };
    zm_allocator a = zm_default_allocator();
    for (size_t i = 0; i < sizeof ocases / sizeof *ocases; i++) {
        const ocase *c = &ocases[i];
        size_t len = strlen(c->text);
        zm_json_doc *doc = NULL;
        zm_json_error e;
        zm_status st = zm_json_parse(a, c->text, len, NULL, &doc, &e);
        bool ok = st != ZM_OK && e.option == c->option && e.note_at > 0 &&
                  e.note_at < strlen(e.message) && strncmp(e.message + e.note_at, " (", 2) == 0 &&
                  (c->note == NULL || strcmp(e.message + e.note_at, c->note) == 0);
        if (!ok)
            fprintf(stderr, "option case %zu: option %d, \"%s\"\n", i, (int)e.option, e.message);
        CHECK(ok);
        zm_json_doc_free(doc);
        /* the deep array is refused for its depth before its end: close it */
        if (c->option == ZM_JSON_OPTION_MAX_DEPTH) continue;
        st = zm_json_parse(a, c->text, len, &c->accept, &doc, &e);
        if (st != ZM_OK) fprintf(stderr, "option case %zu with its option: \"%s\"\n", i, e.message);
        CHECK(st == ZM_OK);
        zm_json_doc_free(doc);
    }
    /* with the option given, the deep text fails at its end, not its depth */
    zm_json_doc *doc = NULL;
    zm_json_error e;
    zm_json_parse_opts deeper = {0, 513, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, deep, 513, &deeper, &doc, &e) == ZM_ESYNTAX);
    CHECK(e.option == ZM_JSON_OPTION_NONE);
    /* refusals no option accepts carry none */
    const char *plain[] = {"[1,,2]",    "{\"a\" 1}", "[-NaN]", "[nan]",
                           "[\"\\x\"]", "{\"a\":]}", "[1}",    "/x"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        CHECK(zm_json_parse(a, plain[i], strlen(plain[i]), NULL, &doc, &e) == ZM_ESYNTAX);
        CHECK(e.option == ZM_JSON_OPTION_NONE && e.note_at == 0);
        if (e.option != ZM_JSON_OPTION_NONE) fprintf(stderr, "%s: %s\n", plain[i], e.message);
    }
    /* an option given does not mark what it still refuses */
    zm_json_parse_opts nan = {ZM_JSON_ALLOW_NAN_INF, 0, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, "[NaN,]", 6, &nan, &doc, &e) == ZM_ESYNTAX);
    CHECK(e.option == ZM_JSON_OPTION_TRAILING_COMMAS);
    zm_json_parse_opts all = {ZM_JSON_ALLOW_COMMENTS | ZM_JSON_ALLOW_TRAILING_COMMAS, 0, 0};
    CHECK(zm_json_parse(a, "[1,/x]", 6, &all, &doc, &e) == ZM_ESYNTAX);
    CHECK(e.option == ZM_JSON_OPTION_NONE);
}

static void test_values(void) {
    static const char text[] = "{\"s\":\"a\\u0000b\\n\",\"i\":-42,\"r\":2.5,\"t\":true,\"f\":false,"
                               "\"z\":null,\"a\":[1,[2,[3]]],\"e\":\"\",\"u\":\"\\ud83d\\ude00\","
                               "\"n0\":-0,\"big\":18446744073709551616,\"max\":9223372036854775807,"
                               "\"min\":-9223372036854775808,\"huge\":-1e999}";
    zm_json_doc *doc = parse(text, sizeof text - 1, 0);
    CHECK(doc != NULL);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(zm_json_is_object(r) && zm_json_len(r) == 14);
    size_t len;
    const char *s = zm_json_str(zm_json_get(r, "s"), &len);
    CHECK(len == 4 && memcmp(s, "a\0b\n", 5) == 0); /* escaped NUL kept, length-counted */
    CHECK_EQ(zm_json_int(zm_json_get(r, "i")), -42);
    CHECK(zm_json_real(zm_json_get(r, "r")) == 2.5);
    CHECK(zm_json_bool(zm_json_get(r, "t")) && !zm_json_bool(zm_json_get(r, "f")));
    CHECK(zm_json_is_null(zm_json_get(r, "z")) && zm_json_get(r, "z") != NULL);
    zm_json *arr = zm_json_get(r, "a");
    CHECK(zm_json_len(arr) == 2 &&
          zm_json_int(zm_json_at(zm_json_at(zm_json_at(arr, 1), 1), 0)) == 3);
    CHECK(zm_json_str(zm_json_get(r, "e"), &len) != NULL && len == 0);
    s = zm_json_str(zm_json_get(r, "u"), &len);
    CHECK(len == 4 && memcmp(s, "\xf0\x9f\x98\x80", 4) == 0);
    zm_json *n0 = zm_json_get(r, "n0");
    CHECK(zm_json_typeof(n0) == ZM_JSON_REAL && zm_json_real(n0) == 0 && signbit(zm_json_real(n0)));
    zm_json *big = zm_json_get(r, "big");
    CHECK(zm_json_typeof(big) == ZM_JSON_NUMBER);
    CHECK_STR(zm_json_str(big, NULL), "18446744073709551616");
    int64_t v;
    CHECK(zm_json_get_int(big, &v) == ZM_ELIMIT);
    CHECK(zm_json_real(big) == 18446744073709551616.0);
    CHECK(zm_json_get_int(zm_json_get(r, "max"), &v) == ZM_OK && v == INT64_MAX);
    CHECK(zm_json_get_int(zm_json_get(r, "min"), &v) == ZM_OK && v == INT64_MIN);
    zm_json *huge = zm_json_get(r, "huge");
    CHECK(zm_json_typeof(huge) == ZM_JSON_NUMBER && zm_json_real(huge) == -INFINITY);
    CHECK_STR(zm_json_str(huge, NULL), "-1e999");
    CHECK_STR(zm_json_member_at(r, 0)->key, "s"); /* insertion order */
    CHECK_STR(zm_json_member_at(r, 13)->key, "huge");
    zm_json_doc_free(doc);
    zm_json_doc_free(NULL);
    CHECK(zm_json_doc_root(NULL) == NULL);
}

/* A large object gets a hash index at parse time; lookups and order agree. */
static void test_big_object(void) {
    char *text = malloc(64 * 1000 + 16);
    size_t n = 0;
    text[n++] = '{';
    for (int k = 0; k < 1000; k++)
        n += (size_t)sprintf(text + n, "%s\"key%d\":%d", k ? "," : "", k, k);
    text[n++] = '}';
    zm_json_doc *doc = parse(text, n, 0);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(r && r->hash_cap >= 2000);
    char key[16];
    for (int k = 0; k < 1000; k++) {
        snprintf(key, sizeof key, "key%d", k);
        CHECK_EQ(zm_json_int(zm_json_get(r, key)), k);
        CHECK_STR(zm_json_member_at(r, (size_t)k)->key, key);
    }
    CHECK(zm_json_get(r, "key1000") == NULL && zm_json_get(r, "") == NULL);
    zm_json_doc_free(doc);
    /* A duplicate at the end of a large object is found through the index. */
    n -= 1;
    n += (size_t)sprintf(text + n, ",\"key500\":1}");
    zm_json_error e;
    CHECK(zm_json_parse(zm_default_allocator(), text, n, NULL, &doc, &e) == ZM_ESYNTAX);
    CHECK(strstr(e.message, "duplicate key \"key500\"") != NULL);
    free(text);
}

static void test_duplicates(void) {
    static const char small[] = "{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"b\":5}";
    for (int big = 0; big < 2; big++) {
        char text[512];
        size_t n;
        if (big) { /* the same through the hash index */
            n = (size_t)sprintf(text, "{\"a\":1,\"b\":2,\"a\":3,\"c\":4,\"b\":5");
            for (int k = 0; k < 20; k++) n += (size_t)sprintf(text + n, ",\"x%d\":0", k);
            text[n++] = '}';
        } else {
            n = sizeof small - 1;
            memcpy(text, small, n);
        }
        zm_json_parse_opts first = {0, 0, ZM_JSON_DUP_FIRST}, last = {0, 0, ZM_JSON_DUP_LAST};
        zm_json_doc *doc;
        CHECK(zm_json_parse(zm_default_allocator(), text, n, NULL, &doc, NULL) == ZM_ESYNTAX);
        CHECK(zm_json_parse(zm_default_allocator(), text, n, &first, &doc, NULL) == ZM_OK);
        zm_json *r = zm_json_doc_root(doc);
        CHECK_EQ(zm_json_len(r), big ? 23 : 3);
        CHECK_EQ(zm_json_int(zm_json_get(r, "a")), 1);
        CHECK_EQ(zm_json_int(zm_json_get(r, "b")), 2);
        CHECK_STR(zm_json_member_at(r, 2)->key, "c");
        zm_json_doc_free(doc);
        CHECK(zm_json_parse(zm_default_allocator(), text, n, &last, &doc, NULL) == ZM_OK);
        r = zm_json_doc_root(doc);
        CHECK_EQ(zm_json_len(r), big ? 23 : 3);
        CHECK_STR(zm_json_member_at(r, 0)->key, "a"); /* at the first one's position */
        CHECK_EQ(zm_json_int(zm_json_member_at(r, 0)->value), 3);
        CHECK_EQ(zm_json_int(zm_json_get(r, "b")), 5);
        CHECK_EQ(zm_json_int(zm_json_get(r, "c")), 4);
        zm_json_doc_free(doc);
    }
}

static void test_relaxed_values(void) {
    zm_json_doc *doc = parse(T("[NaN,Infinity,-Infinity,1]"), ZM_JSON_ALLOW_NAN_INF);
    zm_json *r = zm_json_doc_root(doc);
    CHECK(isnan(zm_json_real(zm_json_at(r, 0))));
    CHECK(zm_json_real(zm_json_at(r, 1)) == INFINITY &&
          zm_json_real(zm_json_at(r, 2)) == -INFINITY);
    zm_json_doc_free(doc);
    doc = parse(T("[\"\\ud800x\",\"\\udfff\"]"), ZM_JSON_ALLOW_LONE_SURROGATES);
    r = zm_json_doc_root(doc);
    size_t len;
    const char *s = zm_json_str(zm_json_at(r, 0), &len);
    CHECK(len == 4 && memcmp(s, "\xed\xa0\x80x", 4) == 0); /* WTF-8 */
    s = zm_json_str(zm_json_at(r, 1), &len);
    CHECK(len == 3 && memcmp(s, "\xed\xbf\xbf", 3) == 0);
    zm_json_doc_free(doc);
    doc = parse(T("[1,-0,2.50,1e2,123456789012345678901234567890]"), ZM_JSON_NUMBERS_AS_TEXT);
    r = zm_json_doc_root(doc);
    const char *want[] = {"1", "-0", "2.50", "1e2", "123456789012345678901234567890"};
    for (size_t i = 0; i < 5; i++) {
        CHECK(zm_json_typeof(zm_json_at(r, i)) == ZM_JSON_NUMBER);
        CHECK_STR(zm_json_str(zm_json_at(r, i), NULL), want[i]);
    }
    int64_t v;
    CHECK(zm_json_get_int(zm_json_at(r, 0), &v) == ZM_OK && v == 1);
    CHECK(zm_json_get_int(zm_json_at(r, 3), &v) == ZM_OK && v == 100);
    CHECK(zm_json_get_int(zm_json_at(r, 2), &v) == ZM_ELIMIT);
    CHECK(zm_json_real(zm_json_at(r, 2)) == 2.5);
    zm_json_doc_free(doc);
}

/* Arrays that open on a number ("[1.5,-2]") are read by a path of their own
   while they hold only numbers separated by single commas, and handed to the
   main loop at anything else (an integer first, a space, another kind of
   value, more than 16 items). The same values with spaces after the commas go
   the general way: both must parse alike, and fail alike. */
static void test_number_arrays(void) {
    const char *texts[] = {
        "[1.5]",
        "[1.5,-2]",
        "[-65.613616999999977,43.420273000000009]",
        "[[1.5,2],[3.25,-4e3],[0.5,1E-2,7]]",
        "[1.5,2,\"a\",null]",
        "[1.5,2,[3.5,4]]",
        "[1.5,2,{\"a\":[0.5,1]}]",
        "[1,2.5,3]",
        "[-1.5,123456789012345678901234567890,1e400,-0.0,0.1]",
        "[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]",
        "[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18.5]",
        "{\"a\":[1.5,2],\"b\":[-3.5],\"c\":[1.0e1,2]}",
        "[[[[[[0.5]]]]],[2.5,[]]]",
        /* arrays of two reals one after another, and the shapes next to them */
        "[[1.5,2.5],[-3.25,4.125],[1.5,2.5,3.5],[0.5,-0.5],[1,2.5],[1.5,2],[7.5,1.5e1],[1.5,2.5]]",
        "[[[-65.613616999999977,43.420273000000009],[-65.625,43.421379000000059]],[[0.5,1.5]]]",
        "{\"a\":[[1.5,2.5],[3.5,4.5]],\"b\":[1.5,2.5],\"c\":[[1.5,2.5]],\"d\":[1.5,2.5]}",
        "[{\"a\":1},[1.5,2.5],[3.5,4.5],\"x\",[5.5,6.5],[1.5,2.5],[]]",
        "[[1.5,2.5],[1234.5,2.5],[1.5,2.5],[1.5,2.1234567890123456],[1.5,2.5],[-1.5,-0.0]]",
    };
    zm_allocator a = zm_default_allocator();
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        /* the general way: a space after every comma */
        char spaced[512];
        size_t n = 0;
        for (const char *c = texts[i]; *c && n + 2 < sizeof spaced; c++) {
            spaced[n++] = *c;
            if (*c == ',') spaced[n++] = ' ';
        }
        spaced[n] = '\0';
        zm_json_doc *x = NULL, *y = NULL;
        CHECK(zm_json_parse(a, texts[i], strlen(texts[i]), NULL, &x, NULL) == ZM_OK);
        CHECK(zm_json_parse(a, spaced, n, NULL, &y, NULL) == ZM_OK);
        bool eq = x && y && zt_json_eq(zm_json_doc_root(x), zm_json_doc_root(y));
        if (!eq) fprintf(stderr, "number array %zu differs: %s\n", i, texts[i]);
        CHECK(eq);
        /* written back, the compact text comes out as it went in (modulo the
           shortest form of each number) and reads back equal */
        char *out = NULL;
        size_t out_len = 0;
        CHECK(zm_json_write(a, zm_json_doc_root(x), 0, &out, &out_len) == ZM_OK);
        zm_json_doc *z = NULL;
        CHECK(zm_json_parse(a, out, out_len, NULL, &z, NULL) == ZM_OK);
        CHECK(z && zt_json_eq(zm_json_doc_root(x), zm_json_doc_root(z)));
        zm_free(a, out, out_len + 1, 1);
        zm_json_doc_free(x);
        zm_json_doc_free(y);
        zm_json_doc_free(z);
    }
    zm_json_doc *d = parse(T("[[1.5,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18.5],[0.25,-8]]"), 0);
    zm_json *r = zm_json_doc_root(d);
    CHECK(zm_json_len(zm_json_at(r, 0)) == 18 && zm_json_len(zm_json_at(r, 1)) == 2);
    CHECK(zm_json_real(zm_json_at(zm_json_at(r, 0), 17)) == 18.5);
    CHECK(zm_json_int(zm_json_at(zm_json_at(r, 0), 16)) == 17);
    CHECK(zm_json_real(zm_json_at(zm_json_at(r, 1), 1)) == -8.0);
    zm_json_doc_free(d);

    /* errors inside such an array: where and what, as the general way says */
    const struct {
        const char *text;
        size_t column;
        const char *msg;
    } bad[] = {
        {"[1.5,01]", 7, "leading zeros"},
        {"[1.5,1.]", 8, "expected a digit after '.'"},
        {"[1.5,1e]", 8, "expected a digit in the exponent"},
        {"[1.5,2,]", 8, "expected a value, found ']'"},
        {"[1.5,2}", 7, "expected ',' or ']' after an array item, found '}'"},
        {"[1.5,2", 7, "expected ',' or ']' after an array item, found the end"},
        {"[1.5 2]", 6, "expected ',' or ']' after an array item, found '2'"},
        {"[1.5,-]", 7, "expected a digit after '-'"},
        {"[1.5]]", 6, "expected the end of the input"},
        /* after arrays of two reals, only in an array may another follow */
        {"[1.5,2.5],[3.5,4.5]", 10, "expected the end of the input"},
        {"{\"a\":[1.5,2.5],[3.5,4.5]}", 16, "a string key"},
        {"[[1.5,2.5],[3.5,4.5]", 21, "found the end"},
        {"[[1.5,2.5],[3.5,4.5]}", 21, "found '}'"},
        {"[[1.5,2.5],[3.5,4.5],]", 22, "expected a value, found ']'"},
        {"[[1.5,2.5],[3.5,4.5,]]", 21, "expected a value, found ']'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        zm_json_error e;
        zm_json_doc *doc = NULL;
        zm_status st = zm_json_parse(a, bad[i].text, strlen(bad[i].text), NULL, &doc, &e);
        bool ok = st == ZM_ESYNTAX && doc == NULL && e.line == 1 && e.column == bad[i].column &&
                  strstr(e.message, bad[i].msg) != NULL;
        if (!ok) fprintf(stderr, "%s: %zu:%zu %s\n", bad[i].text, e.line, e.column, e.message);
        CHECK(ok);
    }
    /* the depth limit holds for them too */
    zm_json_parse_opts o = {0, 2, ZM_JSON_DUP_ERROR};
    zm_json_doc *doc = NULL;
    CHECK(zm_json_parse(a, "[[1.5,2]]", 9, &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
    doc = NULL;
    CHECK(zm_json_parse(a, "[[[1.5,2]]]", 11, &o, &doc, NULL) == ZM_EDEPTH);
    /* trailing commas, when allowed, close them */
    o = (zm_json_parse_opts){ZM_JSON_ALLOW_TRAILING_COMMAS, 0, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, "[1.5,2,]", 8, &o, &doc, NULL) == ZM_OK);
    CHECK(zm_json_len(zm_json_doc_root(doc)) == 2);
    zm_json_doc_free(doc);
}

/* NUL bytes: escaped inside strings they are kept; raw anywhere, rejected. */
static void test_nul(void) {
    zm_json_doc *doc = parse(T("{\"k\\u0000ey\":\"\\u0000\\u0000\"}"), 0);
    zm_json *r = zm_json_doc_root(doc);
    const zm_json_member *m = zm_json_member_at(r, 0);
    CHECK(m && m->key_len == 4 && memcmp(m->key, "k\0ey", 5) == 0);
    CHECK(zm_json_getn(r, "k\0ey", 4) == m->value);
    CHECK(zm_json_get(r, "k") == NULL);
    size_t len;
    const char *s = zm_json_str(m->value, &len);
    CHECK(len == 2 && s[0] == 0 && s[1] == 0 && s[2] == 0);
    zm_json_doc_free(doc);
    const char *bad[] = {"[\"a\0\"]", "[1\0]", "\0", "[1]\0", "{\"a\0\":1}"};
    size_t lens[] = {6, 4, 1, 4, 9};
    for (size_t i = 0; i < 5; i++) {
        zm_json_error e;
        CHECK(zm_json_parse(zm_default_allocator(), bad[i], lens[i], NULL, &doc, &e) == ZM_ESYNTAX);
    }
}

/* ---------------------------------------------------------------------------
 * Depth
 * ------------------------------------------------------------------------- */

static char *nested(size_t depth, bool close, bool objects, size_t *len) {
    char *t = malloc(depth * 6 + 8);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++) {
        if (objects) {
            memcpy(t + n, "{\"k\":", 5);
            n += 5;
        } else {
            t[n++] = '[';
        }
    }
    if (objects) t[n++] = '1';
    for (size_t i = 0; close && i < depth; i++) t[n++] = objects ? '}' : ']';
    *len = n;
    return t;
}

static void test_depth(void) {
    zm_allocator a = zm_default_allocator();
    size_t len;
    zm_json_doc *doc;
    zm_json_error e;
    char *t = nested(1000000, false, false, &len);
    CHECK(zm_json_parse(a, t, len, NULL, &doc, &e) == ZM_EDEPTH);
    CHECK(e.status == ZM_EDEPTH && e.offset == 512 && strstr(e.message, "512") != NULL);
    free(t);
    t = nested(1000000, true, false, &len);
    CHECK(zm_json_parse(a, t, len, NULL, &doc, &e) == ZM_EDEPTH);
    free(t);
    /* exactly max_depth is accepted, one more is not */
    size_t limits[] = {1, 2, 5, 512, 100000};
    for (size_t i = 0; i < 5; i++) {
        size_t lim = limits[i];
        zm_json_parse_opts o = {0, (uint32_t)(lim == 512 ? 0 : lim), ZM_JSON_DUP_ERROR};
        for (int objects = 0; objects < 2; objects++) {
            t = nested(lim, true, objects, &len);
            CHECK(zm_json_parse(a, t, len, &o, &doc, &e) == ZM_OK);
            zm_json *v = zm_json_doc_root(doc);
            size_t d = 0;
            while (zm_json_len(v) > 0)
                v = objects ? zm_json_member_at(v, 0)->value : zm_json_at(v, 0), d++;
            CHECK_EQ(d, objects ? lim : lim - 1);
            /* deep values write (iteratively) and compare equal to themselves */
            char *out;
            size_t olen;
            CHECK(zm_json_write(a, zm_json_doc_root(doc), 0, &out, &olen) == ZM_OK);
            CHECK(olen == len && memcmp(out, t, len) == 0);
            zm_free(a, out, olen + 1, 1);
            CHECK(zt_json_eq(zm_json_doc_root(doc), zm_json_doc_root(doc)));
            zm_json_doc_free(doc);
            free(t);
            t = nested(lim + 1, true, objects, &len);
            CHECK(zm_json_parse(a, t, len, &o, &doc, &e) == ZM_EDEPTH);
            CHECK_EQ(e.offset, objects ? 5 * lim : lim);
            free(t);
        }
    }
    /* A deep but permitted document, and scalars do not count as a level. */
    zm_json_parse_opts o = {0, 1, ZM_JSON_DUP_ERROR};
    CHECK(zm_json_parse(a, T("[1,\"a\",null]"), &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
    CHECK(zm_json_parse(a, T("[[]]"), &o, &doc, NULL) == ZM_EDEPTH);
    CHECK(zm_json_parse(a, T("7"), &o, &doc, NULL) == ZM_OK);
    zm_json_doc_free(doc);
}

/* ---------------------------------------------------------------------------
 * Truncation at every offset
 * ------------------------------------------------------------------------- */

/* A small document with every kind of token. */
static const char sample[] =
    "{\n  \"name\": \"zm\\u00e9m \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\",\n"
    "  \"utf8\": \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", \"pair\": \"\\ud83d\\ude00\",\n"
    "  \"ints\": [0, -1, 42, 9223372036854775807, -9223372036854775808, 12345678901234567890],\n"
    "  \"reals\": [0.5, -0.0, 1e10, 1.5E-7, 2.2250738585072014e-308, 1e999],\n"
    "  \"lits\": [true, false, null], \"empty\": [{}, [], \"\"],\n"
    "  \"nested\": {\"a\": {\"b\": {\"c\": [1, [2, [3, {\"d\": \"e\"}]]]}}}\n}\n";

/* Every prefix of text must be rejected cleanly (no leak, the right kind of
   error at or before the cut), except those holding the whole root value. */
static void truncate_all(const char *text, size_t len, size_t step) {
    size_t root_end = len;
    while (root_end > 0 && (text[root_end - 1] == '\n' || text[root_end - 1] == ' ' ||
                            text[root_end - 1] == '\r' || text[root_end - 1] == '\t'))
        root_end--;
    checked c;
    zm_allocator a = checked_init(&c);
    size_t bad = 0;
    for (size_t cut = 0; cut <= len; cut += (cut < 64 || len - cut < 64) ? 1 : step) {
        zm_json_doc *doc = NULL;
        zm_json_error e;
        zm_status st = zm_json_parse(a, text, cut, NULL, &doc, &e);
        bool want_ok = cut >= root_end;
        if ((st == ZM_OK) != want_ok || (st != ZM_OK && (st != ZM_ESYNTAX || e.offset > cut))) {
            if (bad++ < 5)
                fprintf(stderr, "cut %zu of %zu: status %d, offset %zu: %s\n", cut, len, (int)st,
                        e.offset, e.message);
        }
        zm_json_doc_free(doc);
        if (c.live != 0) bad++;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(c.misuse, 0);
    checked_deinit(&c);
}

/* xorshift64*, so runs are the same everywhere. */
static uint64_t rng = 88172645463325252u;
static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1du;
}

/* Pretty text whose whitespace is then rewritten at random (runs dropped,
   stretched, made of tabs, CR LF, or a newline and many spaces, sometimes
   the same indentation as before and sometimes not; some put before a
   colon) parses to the same value: the parser's indentation guesses and
   shortcuts may be right or wrong anywhere. */
static void test_whitespace_styles(void) {
    zm_allocator a = zm_default_allocator();
    zm_json_doc *doc = NULL;
    CHECK(zm_json_parse(a, sample, sizeof sample - 1, NULL, &doc, NULL) == ZM_OK);
    zm_json *want = zm_json_doc_root(doc);
    uint32_t layouts[] = {ZM_JSON_WRITE_PRETTY, ZM_JSON_WRITE_PRETTY | ZM_JSON_WRITE_INDENT4};
    int rounds = zt_small() ? 20 : 300;
    for (int r = 0; r < rounds; r++) {
        char *pretty;
        size_t plen;
        CHECK(zm_json_write(a, want, layouts[r % 2], &pretty, &plen) == ZM_OK);
        char *t = malloc(plen * 8 + 64);
        size_t n = 0;
        bool in_str = false, esc = false;
        for (size_t i = 0; i < plen; i++) {
            char c = pretty[i];
            if (in_str) {
                t[n++] = c;
                if (esc)
                    esc = false;
                else if (c == '\\')
                    esc = true;
                else if (c == '"')
                    in_str = false;
                continue;
            }
            if (c == '"') in_str = true;
            if (c == ':') { /* whitespace before the colon too, as "key" : value */
                static const char *const before[] = {"", " ", " ", "  ", "\t", "\n ", " \r\n"};
                const char *b = before[rnd() % 7];
                while (*b) t[n++] = *b++;
            }
            if (c != ' ' && c != '\n') {
                t[n++] = c;
                continue;
            }
            switch (rnd() % 16) {
            case 0: break;                /* dropped */
            case 1: t[n++] = '\t'; break; /* a tab */
            case 2:
                t[n++] = '\r';
                t[n++] = '\n';
                break; /* CR LF */
            case 3:
                for (int k = 0; k < 20; k++) t[n++] = ' ';
                break; /* long */
            case 4:
                t[n++] = '\n';
                for (int k = 0; k < 33; k++) t[n++] = ' ';
                break;
            case 5:
                t[n++] = c;
                t[n++] = '\t';
                break;
            default: t[n++] = c; break; /* as it was */
            }
        }
        zm_json_doc *got = NULL;
        zm_json_error e;
        zm_status st = zm_json_parse(a, t, n, NULL, &got, &e);
        if (st != ZM_OK) fprintf(stderr, "round %d: %s\n", r, e.message);
        CHECK(st == ZM_OK && zt_json_eq(zm_json_doc_root(got), want));
        zm_json_doc_free(got);
        free(t);
        zm_free(a, pretty, plen + 1, 1);
    }
    zm_json_doc_free(doc);
}

static const char *data_dir;

static void test_truncation(void) {
    truncate_all(sample, sizeof sample - 1, 1);
    /* The data set is part of the test: without it the test fails. */
    if (data_dir == NULL) {
        fprintf(stderr, "no benchmark data directory given (the first argument)\n");
        CHECK(data_dir != NULL);
        return;
    }
    size_t len;
    char *t = slurp(data_dir, "github_events.json", &len);
    if (t == NULL) {
        fprintf(stderr, "cannot read %s/github_events.json\n", data_dir);
        CHECK(t != NULL);
        return;
    }
    truncate_all(t, len, zt_small() ? 997 : 1);
    free(t);
}

/* ---------------------------------------------------------------------------
 * Arenas and arguments
 * ------------------------------------------------------------------------- */

static void test_arena_rewind(void) {
    zm_arena ar;
    zm_arena_init(&ar, zm_default_allocator());
    zm_json *keep = NULL, *r = NULL;
    CHECK(zm_json_parse_arena(&ar, T("{\"keep\":[1,2,3]}"), NULL, &keep, NULL) == ZM_OK);
    size_t used = zm_arena_used(&ar);
    /* a failure far into a big document leaves the arena where it was */
    size_t n = 200000;
    char *t = malloc(n + 8);
    t[0] = '[';
    for (size_t i = 1; i < n; i += 2) t[i] = '1', t[i + 1] = ',';
    t[n] = 'x';
    CHECK(zm_json_parse_arena(&ar, t, n + 1, NULL, &r, NULL) == ZM_ESYNTAX);
    CHECK(r == NULL);
    CHECK_EQ(zm_arena_used(&ar), used);
    CHECK_EQ(zm_json_int(zm_json_at(zm_json_get(keep, "keep"), 2)), 3);
    free(t);
    /* arguments */
    zm_json_doc *doc;
    CHECK(zm_json_parse_arena(NULL, T("1"), NULL, &r, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse_arena(&ar, T("1"), NULL, NULL, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), NULL, 5, NULL, &doc, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), T("1"), NULL, NULL, NULL) == ZM_EINVAL);
    CHECK(zm_json_parse(zm_default_allocator(), NULL, 0, NULL, &doc, NULL) == ZM_ESYNTAX);
    zm_arena_deinit(&ar);
}

/* ---------------------------------------------------------------------------
 * The failing-allocator sweep
 * ------------------------------------------------------------------------- */

typedef struct sweep_arg {
    const char *text;
    size_t len;
} sweep_arg;

static zm_status sw_parse(zm_allocator a, void *arg) {
    sweep_arg *s = arg;
    zm_json_doc *doc = NULL;
    zm_status st = zm_json_parse(a, s->text, s->len, NULL, &doc, NULL);
    if (st == ZM_OK && zm_json_doc_root(doc) == NULL) st = ZM_EINTERNAL;
    zm_json_doc_free(doc);
    return st;
}

static zm_status sw_parse_arena(zm_allocator a, void *arg) {
    sweep_arg *s = arg;
    zm_arena ar;
    zm_arena_init_sized(&ar, a, 256); /* small blocks: many allocations */
    zm_json *r = NULL;
    zm_status st = zm_json_parse_arena(&ar, s->text, s->len, NULL, &r, NULL);
    if (st != ZM_OK && zm_arena_used(&ar) != 0) st = ZM_EINTERNAL;
    zm_arena_deinit(&ar);
    return st;
}

static void test_sweep(void) {
    /* deep enough and wide enough that the scratch stacks grow onto the heap */
    size_t cap = 64 * 1024, n = 0;
    char *t = malloc(cap);
    n += (size_t)sprintf(t + n, "{\"list\":[");
    for (int k = 0; k < 1500; k++) n += (size_t)sprintf(t + n, "%s%d", k ? "," : "", k);
    n += (size_t)sprintf(t + n, "],\"deep\":");
    for (int k = 0; k < 200; k++) t[n++] = '[';
    for (int k = 0; k < 200; k++) t[n++] = ']';
    n += (size_t)sprintf(t + n, ",\"obj\":{");
    for (int k = 0; k < 40; k++)
        n += (size_t)sprintf(t + n, "%s\"k%d\":\"v\\n%d\"", k ? "," : "", k, k);
    n += (size_t)sprintf(t + n, "},\"big\":123456789012345678901234567890}");
    sweep_arg s = {t, n};
    /* short arrays of reals, read by a path of their own; the last one, too
       long for it, is handed over when the scratch stack (still on the C
       stack) is nearly full */
    char *r = malloc(cap);
    size_t rn = (size_t)sprintf(r, "[");
    for (int k = 0; k < 1010; k++) rn += (size_t)sprintf(r + rn, "[%d.5,-%d.25],", k, k);
    rn += (size_t)sprintf(r + rn, "[0.5");
    for (int k = 0; k < 20; k++) rn += (size_t)sprintf(r + rn, ",%d", k);
    rn += (size_t)sprintf(r + rn, "]]");
    sweep_arg reals = {r, rn};
    CHECK(ck_sweep("parse reals", sw_parse, &reals) >= 2);
    CHECK(ck_sweep("parse_arena reals", sw_parse_arena, &reals) > 2);
    /* a long array of reals with an integer in every 50 items, read by a run of
       their own that bumps their nodes from the arena's block in a register */
    rn = (size_t)sprintf(r, "[0.5");
    for (int k = 0; k < 600; k++) rn += (size_t)sprintf(r + rn, k % 50 ? ",-%d.125" : ",%d", k);
    rn += (size_t)sprintf(r + rn, "]");
    sweep_arg run = {r, rn};
    CHECK(ck_sweep("parse long reals", sw_parse, &run) >= 2);
    CHECK(ck_sweep("parse_arena long reals", sw_parse_arena, &run) > 2);
    free(r);
    CHECK(ck_sweep("parse", sw_parse, &s) >= 2);
    CHECK(ck_sweep("parse_arena", sw_parse_arena, &s) > 3);
    sweep_arg small = {sample, sizeof sample - 1};
    CHECK(ck_sweep("parse sample", sw_parse, &small) >= 1);
    CHECK(ck_sweep("parse_arena sample", sw_parse_arena, &small) >= 2);
    free(t);
}

int main(int argc, char **argv) {
    data_dir = argc > 1 ? argv[1] : NULL;
    RUN(test_cases);
    RUN(test_option_notes);
    RUN(test_values);
    RUN(test_big_object);
    RUN(test_duplicates);
    RUN(test_relaxed_values);
    RUN(test_number_arrays);
    RUN(test_nul);
    RUN(test_depth);
    RUN(test_truncation);
    RUN(test_whitespace_styles);
    RUN(test_arena_rewind);
    RUN(test_sweep);
    return zt_finish("json_parse");
}
