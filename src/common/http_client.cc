#include "common/http_client.h"

#include <curl/curl.h>

#include <strings.h>

#include <mutex>
#include <string_view>

namespace propgrade {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Records the Date header of the response (the last one, should there be several).
size_t ReadHeader(char* data, size_t size, size_t n, void* out) {
  std::string_view line(data, size * n);
  constexpr std::string_view kDate = "date:";
  if (line.size() > kDate.size() && strncasecmp(line.data(), kDate.data(), kDate.size()) == 0) {
    std::string value(line.substr(kDate.size()));
    time_t t = curl_getdate(value.c_str(), nullptr);
    if (t > 0) *static_cast<int64_t*>(out) = static_cast<int64_t>(t) * 1000000;
  }
  return size * n;
}

// The body and the condition of a streamed read (HttpRequestOptions::stop_when).
struct Stream {
  std::string* body;
  const std::function<bool(std::string_view)>* stop_when;
  bool stopped = false;
};

size_t AppendUntil(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<Stream*>(out);
  s->body->append(data, size * n);
  if ((*s->stop_when)(*s->body)) {
    s->stopped = true;
    return 0;  // ends the transfer (CURLE_WRITE_ERROR)
  }
  return size * n;
}

// scheme://host[:port] of a URL: what error messages may show.
std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  return (scheme == std::string::npos ? "" : url.substr(0, scheme + 3)) + authority;
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~CurlHttpClient() override { curl_easy_cleanup(curl_); }

  StatusOr<HttpResponse> Post(const std::string& url, const std::string& body,
                              const std::string& content_type,
                              const HttpRequestOptions& options) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!curl_) return UnavailableError("libcurl could not be initialised");
    curl_easy_reset(curl_);
    HttpResponse response;
    curl_slist* headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
    for (const auto& [name, value] : options.headers) {
      headers = curl_slist_append(headers, (name + ": " + value).c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &ReadHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response.date_micros);
    Stream stream{&response.body, &options.stop_when};
    if (options.stop_when) {
      curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &AppendUntil);
      curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &stream);
    } else {
      curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Append);
      curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response.body);
    }
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_ms));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    if (!options.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, options.ca_file.c_str());
    CURLcode rc = curl_easy_perform(curl_);
    curl_slist_free_all(headers);
    const bool stream_ended = options.stop_when &&
                              ((rc == CURLE_WRITE_ERROR && stream.stopped) ||
                               (rc == CURLE_OPERATION_TIMEDOUT && !response.body.empty()));
    if (rc != CURLE_OK && !stream_ended) {
      return UnavailableError("POST " + Origin(url) + ": " + curl_easy_strerror(rc));
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    return response;
  }

 private:
  std::mutex mu_;
  CURL* curl_ = nullptr;
};

}  // namespace

std::unique_ptr<HttpClient> NewCurlHttpClient() { return std::make_unique<CurlHttpClient>(); }

}  // namespace propgrade
