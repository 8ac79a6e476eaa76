// simdjson's DOM parser for bench_json.c (parse only).
//
// The text is copied once into simdjson's padded buffer (a requirement of
// simdjson, not part of what is timed) and one parser is reused from run to
// run, as simdjson recommends.
#include <simdjson.h>

#include <string>

extern "C" {
#include "bench_peers.h"
}

namespace {
struct state {
    simdjson::padded_string text;
    simdjson::dom::parser parser;
};
} // namespace

extern "C" void *zb_simdjson_new(const char *text, size_t len) {
    try {
        state *s = new state{simdjson::padded_string(text, len), simdjson::dom::parser()};
        if (zb_simdjson_parse(s) != 0) {
            delete s;
            return nullptr;
        }
        return s;
    } catch (...) {
        return nullptr;
    }
}

extern "C" int zb_simdjson_parse(void *arg) {
    state *s = static_cast<state *>(arg);
    simdjson::dom::element root;
    return s->parser.parse(s->text).get(root) ? 1 : 0;
}

extern "C" int zb_simdjson_write(void *) {
    return 1; // parse only
}

extern "C" void zb_simdjson_free(void *arg) {
    delete static_cast<state *>(arg);
}

extern "C" const char *zb_simdjson_implementation(void) {
    static std::string name;
    name = simdjson::get_active_implementation()->name();
    return name.c_str();
}
