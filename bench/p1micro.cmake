# P1 raw comparison and the Google Benchmark micro-benchmarks (bench/README.md).
add_executable(propgrade_raw_write_bench raw_write_bench.cc)
target_link_libraries(propgrade_raw_write_bench PRIVATE propgrade_core SQLite::SQLite3)

find_package(benchmark REQUIRED)
add_executable(propgrade_micro_bench micro_bench.cc)
target_link_libraries(propgrade_micro_bench PRIVATE propgrade_core benchmark::benchmark)
# The golden predictions.csv the CSV benchmarks parse (PROPGRADE_GOLDEN_PREDICTIONS overrides).
target_compile_definitions(propgrade_micro_bench PRIVATE
                           PROPGRADE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
