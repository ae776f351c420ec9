// Process-wide SQLite settings, applied once before the first connection opens.
#pragma once

namespace propgrade {

// Turns SQLite's memory statistics off: their global mutex serialises every SQLite allocation
// across threads (the pipeline's helper threads each hold a connection). Call before opening a
// connection; later calls do nothing. Thread-safe.
void ConfigureSqliteOnce();

}  // namespace propgrade
