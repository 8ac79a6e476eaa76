// The std::unordered_map peer of bench_containers.c: std::string_view keys,
// so that it borrows its keys as zmem's map and GHashTable do. Each function
// runs one phase over every key (no call per operation) and returns a
// checksum.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <unordered_map>

using umap = std::unordered_map<std::string_view, uint64_t>;

extern "C" {

void *zbu_new(void) {
    return new umap();
}

uint64_t zbu_insert(void *m, const char *const *keys, const size_t *lens, size_t n) {
    umap &u = *static_cast<umap *>(m);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += u.emplace(std::string_view(keys[i], lens[i]), i + 1).second;
    return s;
}

uint64_t zbu_find(void *m, const char *const *keys, const size_t *lens, size_t n) {
    const umap &u = *static_cast<umap *>(m);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        auto it = u.find(std::string_view(keys[i], lens[i]));
        if (it != u.end()) s += it->second;
    }
    return s;
}

uint64_t zbu_erase(void *m, const char *const *keys, const size_t *lens, size_t n) {
    umap &u = *static_cast<umap *>(m);
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += u.erase(std::string_view(keys[i], lens[i]));
    return s + u.size();
}

void zbu_free(void *m) {
    delete static_cast<umap *>(m);
}
}
