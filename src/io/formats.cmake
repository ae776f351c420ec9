# io: CSV/JSONL table files (table_file.h) and the low-level CSV reader (csv.h).
target_sources(propgrade_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/csv.cc
  ${CMAKE_CURRENT_LIST_DIR}/table_file.cc)
if(PROPGRADE_BUILD_TESTS)
  target_sources(propgrade_tests PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/csv_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/table_file_test.cc)
endif()
