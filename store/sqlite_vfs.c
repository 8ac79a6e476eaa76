/* The VFS the SQLite backend opens its files through: SQLite's own "unix"
   VFS with the writes to the -wal file gathered. SQLite writes a WAL frame
   as two writes (its 24-byte header, then the page), so a commit of three
   pages is six pwrite calls; here the frames of a commit are copied into a
   buffer and written with one call, when the commit frame is complete.

   Nothing changes for anyone reading the file: other connections and
   processes only read frames up to the last commit published in the shared
   wal-index, and the buffer is written out before the commit is published
   (at its commit frame, and again at the shared-memory barrier that
   precedes the index header, as a safety net), before this connection reads,
   syncs, sizes or truncates the log, and before any shared-memory lock is
   released (so frames of a transaction rolled back never land after another
   writer's). A failure to write the commit frames is returned by the write
   of the commit frame, as SQLite expects. Every other file and method goes
   straight to the unix VFS. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "sqlite_internal.h"

/* The bytes gathered before a write: 16 frames of 4 KiB pages, 32 of 2 KiB. */
#define GATHER (16 * (4096 + 24))
/* A WAL frame header: 24 bytes, the database size after a commit at 4. */
#define FRAME_HDR 24

typedef struct zfile {
    sqlite3_file base;  /* pMethods: gathering (the -wal file) or forwarding */
    sqlite3_file *real; /* the unix VFS's file, in the same block after this */
    struct zfile *wal;  /* a database file: its open -wal file */
    struct zfile *db;   /* a -wal file: its database file */
    bool commit_next;   /* the next write completes a commit frame */
    sqlite3_int64 end;  /* the end of what was written to the log */
    int len;            /* bytes gathered */
    sqlite3_int64 off;  /* the file offset of buf[0] */
    unsigned char *buf; /* a -wal file: GATHER bytes from sqlite3_malloc */
    void volatile *shm; /* a database file: its wal-index's first region, once mapped */
} zfile;

#define ZF(f)   ((zfile *)(f))
#define REAL(f) (ZF(f)->real)
#define RM(f)   (REAL(f)->pMethods)

static sqlite3_vfs zvfs;

/* Writes out what is gathered. */
static int flush(zfile *z) {
    if (z->len == 0) return SQLITE_OK;
    int len = z->len;
    z->len = 0;
    return z->real->pMethods->xWrite(z->real, z->buf, len, z->off);
}

/* Flushes the -wal file of the database file f, if it has one. */
static int flush_wal_of(sqlite3_file *f) {
    return ZF(f)->wal != NULL ? flush(ZF(f)->wal) : SQLITE_OK;
}

/* ---------------------------------------------------------------------------
 * Methods: forwarding ones, then the -wal file's
 * ------------------------------------------------------------------------- */

static int x_close(sqlite3_file *f) {
    zfile *z = ZF(f);
    int rc = flush(z);
    if (z->db != NULL && z->db->wal == z) z->db->wal = NULL;
    if (z->wal != NULL && z->wal->db == z) z->wal->db = NULL;
    sqlite3_free(z->buf);
    z->buf = NULL;
    int rc2 = RM(f)->xClose(REAL(f));
    return rc != SQLITE_OK ? rc : rc2;
}
static int x_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off) {
    int rc = flush(ZF(f));
    return rc != SQLITE_OK ? rc : RM(f)->xRead(REAL(f), p, amt, off);
}
static int x_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off) {
    return RM(f)->xWrite(REAL(f), p, amt, off);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 size) {
    int rc = flush(ZF(f));
    if (ZF(f)->end > size) ZF(f)->end = size;
    return rc != SQLITE_OK ? rc : RM(f)->xTruncate(REAL(f), size);
}
static int x_sync(sqlite3_file *f, int flags) {
    int rc = flush(ZF(f));
    return rc != SQLITE_OK ? rc : RM(f)->xSync(REAL(f), flags);
}
static int x_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    int rc = flush(ZF(f));
    return rc != SQLITE_OK ? rc : RM(f)->xFileSize(REAL(f), size);
}
static int x_lock(sqlite3_file *f, int level) {
    return RM(f)->xLock(REAL(f), level);
}
static int x_unlock(sqlite3_file *f, int level) {
    return RM(f)->xUnlock(REAL(f), level);
}
static int x_check_reserved(sqlite3_file *f, int *out) {
    return RM(f)->xCheckReservedLock(REAL(f), out);
}
static int x_file_control(sqlite3_file *f, int op, void *arg) {
    int rc = flush(ZF(f));
    return rc != SQLITE_OK ? rc : RM(f)->xFileControl(REAL(f), op, arg);
}
static int x_sector_size(sqlite3_file *f) {
    return RM(f)->xSectorSize(REAL(f));
}
static int x_device(sqlite3_file *f) {
    return RM(f)->xDeviceCharacteristics(REAL(f));
}
static int x_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp) {
    if (RM(f)->iVersion < 2) return SQLITE_IOERR_SHMMAP;
    int rc = RM(f)->xShmMap(REAL(f), region, size, extend, pp);
    if (rc == SQLITE_OK && region == 0 && *pp != NULL) ZF(f)->shm = *pp;
    return rc;
}
static int x_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
    if (RM(f)->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
    /* An unlock happens whatever the flush says (SQLite does not look at
       what an unlock returns; a lock kept would stop every other writer). */
    int rc = flags & SQLITE_SHM_UNLOCK ? flush_wal_of(f) : SQLITE_OK;
    int rc2 = RM(f)->xShmLock(REAL(f), offset, n, flags);
    return rc != SQLITE_OK ? rc : rc2;
}
static void x_shm_barrier(sqlite3_file *f) {
    /* The commit frame flushed already; this finds nothing in practice,
       and has no way to report a failure. */
    (void)flush_wal_of(f);
    if (RM(f)->iVersion >= 2) RM(f)->xShmBarrier(REAL(f));
}
static int x_shm_unmap(sqlite3_file *f, int del) {
    ZF(f)->shm = NULL;
    if (RM(f)->iVersion < 2) return SQLITE_OK;
    return RM(f)->xShmUnmap(REAL(f), del);
}
static int x_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
    *pp = NULL;
    if (RM(f)->iVersion < 3) return SQLITE_OK;
    return RM(f)->xFetch(REAL(f), off, amt, pp);
}
static int x_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
    if (RM(f)->iVersion < 3) return SQLITE_OK;
    return RM(f)->xUnfetch(REAL(f), off, p);
}

/* The -wal file: a write that continues what is gathered joins it; any
   other first writes that out. The frame that commits a transaction never
   waits: its page, which follows its header, goes out with everything
   before it, so a failure is the commit's. A commit header below the end of
   the log (SQLite rewrites checksums in place) goes out at once too. */
static int wal_write(sqlite3_file *f, const void *p, int amt, sqlite3_int64 off) {
    zfile *z = ZF(f);
    bool now = z->commit_next;
    z->commit_next = false;
    if (off == 0) z->end = 0; /* the log starts over with its header */
    if (amt == FRAME_HDR) {
        const unsigned char *h = p;
        if ((h[4] | h[5] | h[6] | h[7]) != 0) {
            if (off >= z->end)
                z->commit_next = true;
            else
                now = true;
        }
    }
    if (off + amt > z->end) z->end = off + amt;
    if (z->len > 0 && (off != z->off + z->len || amt > GATHER - z->len)) {
        int rc = flush(z);
        if (rc != SQLITE_OK) return rc;
    }
    if (amt > GATHER) return z->real->pMethods->xWrite(z->real, p, amt, off);
    if (z->len == 0) z->off = off;
    memcpy(z->buf + z->len, p, (size_t)amt);
    z->len += amt;
    return now ? flush(z) : SQLITE_OK;
}

static const sqlite3_io_methods fwd_methods = {
    3,           x_close,   x_read,     x_write,          x_truncate,     x_sync,
    x_file_size, x_lock,    x_unlock,   x_check_reserved, x_file_control, x_sector_size,
    x_device,    x_shm_map, x_shm_lock, x_shm_barrier,    x_shm_unmap,    x_fetch,
    x_unfetch,
};

static const sqlite3_io_methods wal_methods = {
    3,           x_close,   x_read,     wal_write,        x_truncate,     x_sync,
    x_file_size, x_lock,    x_unlock,   x_check_reserved, x_file_control, x_sector_size,
    x_device,    x_shm_map, x_shm_lock, x_shm_barrier,    x_shm_unmap,    x_fetch,
    x_unfetch,
};

/* ---------------------------------------------------------------------------
 * The VFS
 * ------------------------------------------------------------------------- */

#define BASE        ((sqlite3_vfs *)zvfs.pAppData)
#define REAL_OFFSET ((sizeof(zfile) + 7) & ~(size_t)7)

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    zfile *z = ZF(f);
    z->real = (sqlite3_file *)((char *)f + REAL_OFFSET);
    z->wal = z->db = NULL;
    z->commit_next = false;
    z->end = 0;
    z->len = 0;
    z->off = 0;
    z->buf = NULL;
    z->shm = NULL;
    int rc = BASE->xOpen(BASE, name, z->real, flags, out_flags);
    if (rc != SQLITE_OK || z->real->pMethods == NULL) {
        /* SQLite closes what it was given only when pMethods is set. */
        if (z->real->pMethods != NULL) z->real->pMethods->xClose(z->real);
        f->pMethods = NULL;
        return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
    }
    if ((flags & SQLITE_OPEN_WAL) && name != NULL) {
        z->buf = sqlite3_malloc(GATHER);
        if (z->buf == NULL) {
            z->real->pMethods->xClose(z->real);
            f->pMethods = NULL;
            return SQLITE_NOMEM;
        }
        sqlite3_file *db = sqlite3_database_file_object(name);
        if (db != NULL && db->pMethods == &fwd_methods) {
            z->db = ZF(db);
            ZF(db)->wal = z;
        }
        f->pMethods = &wal_methods;
    } else {
        f->pMethods = &fwd_methods;
    }
    return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync) {
    (void)vfs;
    return BASE->xDelete(BASE, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return BASE->xAccess(BASE, name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out) {
    (void)vfs;
    return BASE->xFullPathname(BASE, name, n, out);
}
static void *v_dl_open(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return BASE->xDlOpen(BASE, name);
}
static void v_dl_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    BASE->xDlError(BASE, n, out);
}
static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void) {
    (void)vfs;
    return BASE->xDlSym(BASE, h, sym);
}
static void v_dl_close(sqlite3_vfs *vfs, void *h) {
    (void)vfs;
    BASE->xDlClose(BASE, h);
}
static int v_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return BASE->xRandomness(BASE, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us) {
    (void)vfs;
    return BASE->xSleep(BASE, us);
}
static int v_current_time(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return BASE->xCurrentTime(BASE, out);
}
static int v_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return BASE->xGetLastError(BASE, n, out);
}
static int v_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return BASE->xCurrentTimeInt64(BASE, out);
}

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static bool registered;

/* Fills zvfs over the unix VFS and registers it. */
static int reg(void) {
    int rc = sqlite3_initialize();
    if (rc != SQLITE_OK) return rc;
    sqlite3_vfs *base = sqlite3_vfs_find("unix");
    if (base == NULL || base->iVersion < 2 || base->xCurrentTimeInt64 == NULL) return SQLITE_OK;
    zvfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)REAL_OFFSET + base->szOsFile,
        .mxPathname = base->mxPathname,
        .zName = ZM__SQ_VFS,
        .pAppData = base,
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full_pathname,
        .xDlOpen = v_dl_open,
        .xDlError = v_dl_error,
        .xDlSym = v_dl_sym,
        .xDlClose = v_dl_close,
        .xRandomness = v_randomness,
        .xSleep = v_sleep,
        .xCurrentTime = v_current_time,
        .xGetLastError = v_last_error,
        .xCurrentTimeInt64 = v_current_time64,
    };
    rc = sqlite3_vfs_register(&zvfs, 0);
    if (rc == SQLITE_OK) registered = true;
    return rc;
}

int zm__sq_vfs(const char **name) {
    pthread_mutex_lock(&reg_lock);
    int rc = registered ? SQLITE_OK : reg();
    *name = registered ? ZM__SQ_VFS : NULL;
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

sqlite3_file *zm__sq_main_file(sqlite3 *db) {
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || f == NULL ||
        f->pMethods != &fwd_methods)
        return NULL;
    return f;
}

bool zm__sq_wal_header(sqlite3_file *f, uint64_t out[6]) {
    if (f == NULL || f->pMethods != &fwd_methods || ZF(f)->shm == NULL) return false;
    /* The first copy of the header, which a commit writes last (after the
       second copy and a barrier): until it is written the commit is not
       complete, and its writer has not answered anyone. Read while it is
       being written, it reads as changed, or as before that commit. */
    const volatile uint64_t *h = (const volatile uint64_t *)ZF(f)->shm;
    atomic_thread_fence(memory_order_seq_cst);
    for (int i = 0; i < 6; i++) out[i] = h[i];
    atomic_thread_fence(memory_order_seq_cst);
    return true;
}
