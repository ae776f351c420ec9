#include "testing/http_receiver.h"

#include <httplib.h>

#include <chrono>

namespace propgrade::testing {

HttpReceiver::HttpReceiver() : server_(std::make_unique<httplib::Server>()) {
  server_->set_tcp_nodelay(true);
  server_->Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    int status, delay;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back({req.path, req.body, req.get_header_value("Content-Type")});
      status = status_;
      delay = delay_ms_;
    }
    if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    res.status = status;
    res.set_content("ok", "text/plain");
  });
  port_ = server_->bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

HttpReceiver::~HttpReceiver() { Stop(); }

void HttpReceiver::Stop() {
  if (server_->is_running()) server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string HttpReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<ReceivedRequest> HttpReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void HttpReceiver::set_status(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
}

void HttpReceiver::set_delay_ms(int delay_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ms_ = delay_ms;
}

}  // namespace propgrade::testing
