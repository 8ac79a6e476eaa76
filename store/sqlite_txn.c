/* The SQLite backend's transactions: the one a caller opens (begin, commit,
   rollback), what one write runs in (BEGIN IMMEDIATE, or a savepoint or
   nothing inside a transaction), read snapshots, and the checkpoint after a
   purge. */
#include <stdio.h>

#include "sqlite_internal.h"

/* ---------------------------------------------------------------------------
 * Transactions
 * ------------------------------------------------------------------------- */

/* Runs a statement whose failure must not replace the message of the error
   being handled (a rollback after a failed write). */
static void exec_quiet(zm__sq *s, zm__sq_stmt_id id) {
    char saved[256];
    snprintf(saved, sizeof saved, "%s", zm_store_errmsg());
    (void)zm__sq_exec(s, id, "cleaning up");
    zm_store_fail(ZM_OK, "%s", saved);
}

/* Prepares the statements that end what is about to begin, so that ending
   it (above all rolling back after a failure) needs no memory. */
static zm_status prepare_ends(zm__sq *s) {
    static const zm__sq_stmt_id ids[] = {ZM__SQ_COMMIT, ZM__SQ_ROLLBACK, ZM__SQ_RELEASE,
                                         ZM__SQ_ROLLBACK_TO};
    sqlite3_stmt *q;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        zm_status st = zm__sq_stmt(s, ids[i], &q);
        if (st != ZM_OK) return st;
    }
    return ZM_OK;
}

zm_status zm__sq_op_begin(zm__sq *s) {
    zm_status st = zm__sq_ready(s);
    if (st == ZM_OK) st = prepare_ends(s);
    if (st != ZM_OK) return st;
    if (s->in_txn) {
        if (s->txn_lost)
            return zm_store_fail(ZM_EIO, "the transaction was rolled back after an error: "
                                         "roll back and begin again");
        return zm__sq_exec(s, ZM__SQ_SAVEPOINT, "starting a write");
    }
    /* A held read ends here; a rollback that failed earlier may have left
       one open: end it. */
    zm__sq_release(s);
    if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
    return zm__sq_exec(s, ZM__SQ_BEGIN_IMMEDIATE, "starting a write");
}

zm_status zm__sq_op_begin_bare(zm__sq *s) {
    if (!s->in_txn) return zm__sq_op_begin(s);
    zm_status st = zm__sq_ready(s);
    if (st == ZM_OK) st = prepare_ends(s);
    if (st != ZM_OK) return st;
    if (s->txn_lost)
        return zm_store_fail(ZM_EIO, "the transaction was rolled back after an error: "
                                     "roll back and begin again");
    s->op_bare = true;
    s->op_wrote = false;
    return ZM_OK;
}

zm_status zm__sq_op_end(zm__sq *s, zm_status st) {
    bool bare = s->op_bare, wrote = s->op_wrote;
    s->op_bare = s->op_wrote = false;
    if (st == ZM_OK) {
        if (bare) return ZM_OK; /* the transaction's commit writes it */
        st = zm__sq_exec(s, s->in_txn ? ZM__SQ_RELEASE : ZM__SQ_COMMIT, "committing");
        if (st == ZM_OK) return ZM_OK;
    }
    if (s->in_txn) {
        if (sqlite3_get_autocommit(s->db)) {
            s->txn_lost = true; /* SQLite rolled the whole transaction back */
        } else if (bare && !wrote && !s->suspect) {
            /* Nothing changed: the transaction goes on. */
        } else if (s->suspect || bare) {
            /* The connection's state may be wrong (see zm__sq.suspect), or a
               write without a savepoint changed something it cannot undo
               alone: none of this transaction is written. */
            exec_quiet(s, ZM__SQ_ROLLBACK);
            s->txn_lost = true;
        } else {
            exec_quiet(s, ZM__SQ_ROLLBACK_TO);
            exec_quiet(s, ZM__SQ_RELEASE);
        }
    } else if (!sqlite3_get_autocommit(s->db)) {
        exec_quiet(s, ZM__SQ_ROLLBACK);
    }
    return st;
}

zm_status zm__sq_read_begin(zm__sq *s) {
    zm_status st = zm__sq_ready(s);
    if (st == ZM_OK) st = prepare_ends(s);
    if (st != ZM_OK || s->in_txn) return st;
    if (s->held && !sqlite3_get_autocommit(s->db)) {
        /* The held read, made current when the call began (zm__sq_hold). */
        s->pinned = true;
        return ZM_OK;
    }
    zm__sq_release(s);
    if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
    return zm__sq_exec(s, ZM__SQ_BEGIN_READ, "starting a read");
}

void zm__sq_read_end(zm__sq *s) {
    if (s->pinned) {
        s->pinned = false; /* the held read goes on */
        return;
    }
    if (s->in_txn || sqlite3_get_autocommit(s->db)) return;
    exec_quiet(s, ZM__SQ_COMMIT);
    if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
}

/* ---------------------------------------------------------------------------
 * Held reads: a call that reads outside a transaction runs in the read
 * transaction the last one left open, as long as no commit (of this
 * connection, another one, or another process) has been published in the
 * shared wal-index since that transaction began; else it ends that one and
 * begins another. What such a call reads is what a new transaction would
 * read, and a request of one read takes no lock of the -shm file. The held
 * transaction keeps other processes' checkpoints from restarting the log,
 * so the caller ends it whenever it is about to wait (zm_store_idle); a
 * write ends it before it begins.
 * ------------------------------------------------------------------------- */

zm_status zm__sq_hold(zm__sq *s) {
    if (!s->hold || s->in_txn || s->pinned || s->suspect) return ZM_OK;
    if (!s->file_known) {
        s->main_file = zm__sq_main_file(s->db);
        s->file_known = true;
    }
    uint64_t now[6];
    if (s->held) {
        if (!sqlite3_get_autocommit(s->db) && zm__sq_wal_header(s->main_file, now) &&
            memcmp(now, s->held_hdr, sizeof now) == 0)
            return ZM_OK;
        zm__sq_release(s);
    }
    /* Before the wal-index is mapped (the connection's first read), the
       call runs on its own. */
    if (!sqlite3_get_autocommit(s->db) || !zm__sq_wal_header(s->main_file, now)) return ZM_OK;
    zm_status st = prepare_ends(s);
    if (st == ZM_OK) st = zm__sq_exec(s, ZM__SQ_BEGIN_READ, "starting a read");
    if (st != ZM_OK) return st;
    /* Read before the transaction takes its snapshot (at its first
       statement): a commit in between makes the next call begin anew. */
    memcpy(s->held_hdr, now, sizeof now);
    s->held = true;
    return ZM_OK;
}

void zm__sq_release(zm__sq *s) {
    if (!s->held) return;
    s->held = s->pinned = false;
    if (sqlite3_get_autocommit(s->db)) return;
    exec_quiet(s, ZM__SQ_COMMIT);
    if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
}

/* Checkpoints the log and truncates it, so what a purge erased is gone from
   the -wal file too. Another process reading at the time keeps the log
   alive; the next checkpoint then finishes the job. */
static void checkpoint(zm__sq *s) {
    exec_quiet(s, ZM__SQ_CHECKPOINT);
}

zm_status zm__sq_begin(zm_store *base) {
    zm__sq *s = (zm__sq *)base;
    sqlite3_stmt *q;
    zm_status st = zm__sq_ready(s);
    if (st == ZM_OK) st = prepare_ends(s);
    if (st == ZM_OK) st = zm__sq_stmt(s, ZM__SQ_SAVEPOINT, &q);
    if (st == ZM_OK) st = zm__sq_stmt(s, ZM__SQ_CHECKPOINT, &q);
    if (st != ZM_OK) return st;
    zm__sq_release(s);
    if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
    st = zm__sq_exec(s, ZM__SQ_BEGIN_IMMEDIATE, "beginning a transaction");
    if (st != ZM_OK) return st;
    s->in_txn = true;
    s->txn_lost = false;
    s->purge_pending = false;
    s->txn_queued = 0;
    return ZM_OK;
}

zm_status zm__sq_commit(zm_store *base) {
    zm__sq *s = (zm__sq *)base;
    bool lost = s->txn_lost, purged = s->purge_pending;
    unsigned queued = s->txn_queued;
    s->txn_lost = false;
    s->purge_pending = false;
    s->txn_queued = 0;
    if (lost || sqlite3_get_autocommit(s->db)) {
        s->in_txn = false;
        return zm_store_fail(ZM_EIO, "the transaction was rolled back after an error; "
                                     "nothing of it was stored");
    }
    /* The keys the transaction queued wait with the others. */
    s->in_txn = false;
    zm_status st = zm__sq_exec(s, ZM__SQ_COMMIT, "committing a transaction");
    if (st == ZM_OK) s->queued += queued;
    if (st != ZM_OK) {
        if (!sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
        return st;
    }
    if (purged) checkpoint(s);
    return ZM_OK;
}

zm_status zm__sq_rollback(zm_store *base) {
    zm__sq *s = (zm__sq *)base;
    s->in_txn = false;
    s->txn_lost = false;
    s->purge_pending = false;
    s->txn_queued = 0;
    if (sqlite3_get_autocommit(s->db)) return ZM_OK;
    zm_status st = zm__sq_exec(s, ZM__SQ_ROLLBACK, "rolling back a transaction");
    if (st != ZM_OK && !sqlite3_get_autocommit(s->db)) exec_quiet(s, ZM__SQ_ROLLBACK);
    return st;
}

zm_status zm__sq_after_purge(zm__sq *s) {
    if (s->in_txn) {
        s->purge_pending = true;
        return ZM_OK;
    }
    zm_status st = zm__sq_exec(s, ZM__SQ_CHECKPOINT, "checkpointing");
    if (st == ZM_OK) return ZM_OK;
    return zm_store_fail(st,
                         "the key was purged, but its old bytes are still in the log of %s "
                         "(%s): purge again to finish",
                         s->path, zm_status_str(st));
}
