#include "server/assets.h"

namespace propgrade::server {

// Generated at build time from web/ (embed_assets.cmake).
std::optional<std::string_view> GeneratedAsset(std::string_view file);

const std::vector<AssetRoute>& AssetRoutes() {
  static const std::vector<AssetRoute> routes = {
      {"/", "index.html", "text/html; charset=utf-8"},
      {"/index.html", "index.html", "text/html; charset=utf-8"},
      {"/assets/app.js", "app.js", "text/javascript; charset=utf-8"},
      {"/assets/app.css", "app.css", "text/css; charset=utf-8"},
      {"/assets/uPlot.iife.min.js", "node_modules/uplot/dist/uPlot.iife.min.js",
       "text/javascript; charset=utf-8"},
      {"/assets/uPlot.min.css", "node_modules/uplot/dist/uPlot.min.css",
       "text/css; charset=utf-8"},
  };
  return routes;
}

std::optional<std::string_view> EmbeddedAsset(std::string_view file) {
  return GeneratedAsset(file);
}

}  // namespace propgrade::server
