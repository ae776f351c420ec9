# P4, P6 and P9 (spec/performance.md): the summary against per-slice SQL, contended locks
# across processes, and the duplicate check's independence of table size.
add_executable(propgrade_summary_sql_bench summary_sql_bench.cc)
target_link_libraries(propgrade_summary_sql_bench PRIVATE propgrade_core SQLite::SQLite3
                      nlohmann_json::nlohmann_json)
add_executable(propgrade_dupcheck_bench dupcheck_bench.cc)
target_link_libraries(propgrade_dupcheck_bench PRIVATE propgrade_core SQLite::SQLite3
                      nlohmann_json::nlohmann_json)
add_executable(propgrade_lock_contention_bench lock_contention_bench.cc)
target_link_libraries(propgrade_lock_contention_bench PRIVATE propgrade_core)
