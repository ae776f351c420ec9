#include "testing/write_sections.h"

#include <algorithm>
#include <map>
#include <sstream>

#include "common/strings.h"

namespace propgrade::testing {

namespace {

// The value of "name": in a JSON line (strings unquoted; "" when absent).
std::string Field(const std::string& line, const std::string& name) {
  std::string tag = "\"" + name + "\":";
  size_t p = line.find(tag);
  if (p == std::string::npos) return "";
  p += tag.size();
  size_t e = line.find_first_of(",}", p);
  std::string v = line.substr(p, e - p);
  if (!v.empty() && v[0] == '"') v = v.substr(1, v.size() - 2);
  return v;
}

}  // namespace

std::vector<Section> Sections(const std::string& log) {
  std::vector<Section> out;
  std::map<std::string, size_t> open;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"event\":\"write_section\"") == std::string::npos) continue;
    std::string key = Field(line, "key");
    std::string token = Field(line, "token");
    int64_t at = ParseInt64(Field(line, "at_micros")).value_or(0);
    if (Field(line, "phase") == "enter") {
      Section s;
      s.key = key;
      s.token = token == "null" ? -1 : ParseInt64(token).value_or(-1);
      s.enter = at;
      open[key] = out.size();
      out.push_back(s);
    } else if (open.count(key)) {
      Section& s = out[open[key]];
      s.exit = at;
      s.committed = Field(line, "committed") == "true";
      open.erase(key);
    }
  }
  return out;
}

SectionViolations Violations(const std::vector<Section>& all) {
  std::map<std::string, std::vector<const Section*>> by_key;
  for (const Section& s : all) by_key[s.key].push_back(&s);
  SectionViolations v;
  for (auto& [key, list] : by_key) {
    std::sort(list.begin(), list.end(),
              [](const Section* a, const Section* b) { return a->enter < b->enter; });
    int64_t busy_until = -1;
    for (const Section* s : list) {
      if (s->enter <= busy_until) ++v.overlaps;
      busy_until = std::max(busy_until, s->exit >= 0 ? s->exit : s->enter);
    }
    std::vector<const Section*> committed;
    for (const Section* s : list) {
      if (s->committed) committed.push_back(s);
    }
    std::sort(committed.begin(), committed.end(),
              [](const Section* a, const Section* b) { return a->exit < b->exit; });
    for (size_t i = 1; i < committed.size(); ++i) {
      if (committed[i]->token <= committed[i - 1]->token) ++v.non_increasing;
    }
  }
  return v;
}

}  // namespace propgrade::testing
