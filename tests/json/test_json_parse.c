/* The parser: accept/reject cases for every rule of RFC 8259 and every
   opt-in relaxation, error positions and messages, invalid UTF-8 of every
   class, and the notes naming the option that would accept a refused text.
   The values it builds are in test_json_parse_values.c; depth, truncation,
   arenas and the failing-allocator sweep in test_json_parse_limits.c. */
#include "json_parse_test.h"

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

int main(void) {
    RUN(test_cases);
    RUN(test_option_notes);
    return zt_finish("json_parse");
}
