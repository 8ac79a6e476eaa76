// RapidJSON for bench_json.c: Document::Parse (default flags, as a program
// gets it) and Writer<StringBuffer> through Document::Accept. Its SSE2 paths
// (whitespace skipping, string scanning) are enabled where the compiler
// targets SSE2, as on every x86-64.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <new>

extern "C" {
#include "bench_peers.h"
}

namespace {
struct state {
    const char *text;
    size_t len;
    rapidjson::Document doc; // the tree the write runs serialise
};
} // namespace

extern "C" void *zb_rapidjson_new(const char *text, size_t len) {
    state *s = new (std::nothrow) state;
    if (s == nullptr) return nullptr;
    s->text = text;
    s->len = len;
    s->doc.Parse(text, len);
    if (s->doc.HasParseError()) {
        delete s;
        return nullptr;
    }
    return s;
}

extern "C" int zb_rapidjson_parse(void *arg) {
    state *s = static_cast<state *>(arg);
    rapidjson::Document doc;
    doc.Parse(s->text, s->len);
    return doc.HasParseError() ? 1 : 0;
}

extern "C" int zb_rapidjson_write(void *arg) {
    state *s = static_cast<state *>(arg);
    rapidjson::StringBuffer out;
    rapidjson::Writer<rapidjson::StringBuffer> w(out);
    return s->doc.Accept(w) && out.GetSize() > 0 ? 0 : 1;
}

extern "C" void zb_rapidjson_free(void *arg) {
    delete static_cast<state *>(arg);
}
