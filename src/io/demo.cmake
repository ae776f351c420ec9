# The demo season generator (`propgrade demo`).
target_sources(propgrade_core PRIVATE demo_season.cc)
if(PROPGRADE_BUILD_TESTS)
  target_sources(propgrade_tests PRIVATE demo_season_test.cc)
endif()
