// The SQLite Store: one connection in WAL mode with a busy timeout, prepared statements, and
// ReplacePartition as one BEGIN IMMEDIATE transaction. Thread-safe (calls are serialised).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace propgrade {

// Opens the database file at `path` and migrates its schema, creating the file when it does not
// exist, or as `options` say (create_if_missing, read_only: see StoreOptions).
StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                                  const StoreOptions& options);

}  // namespace propgrade
