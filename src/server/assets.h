// The dashboard's files (web/), compiled into the binary at build time so `propgrade serve`
// works offline from one file; `--static-dir` serves them from a directory instead
// (development). Immutable; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace propgrade::server {

struct AssetRoute {
  std::string_view url;           // "/", "/assets/app.js", ...
  std::string_view file;          // relative to web/: "index.html", "node_modules/uplot/..."
  std::string_view content_type;  // with charset for text
};

// Every URL the dashboard is served under.
const std::vector<AssetRoute>& AssetRoutes();

// The embedded bytes of `file` (a route's file); nullopt when not embedded.
std::optional<std::string_view> EmbeddedAsset(std::string_view file);

}  // namespace propgrade::server
