// The PostgreSQL Store on libpq: the same schema and semantics as the SQLite store. Every write
// of a partition is one READ COMMITTED transaction that first takes pg_advisory_xact_lock on the
// partition (as its own statement: without it, two DELETE+INSERT transactions interleave and
// duplicate rows), checks the fence, deletes, COPYs the new rows in and commits.
// Thread-safe (calls are serialised on one connection, re-established after a server restart).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace propgrade {

// `url` is postgresql://user:pass@host:port/db[?schema=NAME]; creates or migrates the schema,
// or as `options` say (create_if_missing, read_only: see StoreOptions).
StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                   const StoreOptions& options);

}  // namespace propgrade
