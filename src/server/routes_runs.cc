// The /v1/runs routes: trigger a run, and a run's status by id or by date (the runs this
// process knows, then those grading_runs holds).
#include <httplib.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "schema/schema.h"
#include "server/http_util.h"
#include "server/server.h"
#include "server/trigger.h"

namespace propgrade::server {

namespace {

// Runs stored in grading_runs grouped by run id, as the API shows runs.
std::vector<RunView> StoredRuns(std::vector<Row> rows) {
  std::map<std::string, RunView> by_id;
  for (Row& r : rows) {
    RunSummary s = RunSummary::FromRow(r);
    RunView& v = by_id[s.run_id];
    if (v.run_id.empty()) {
      v.run_id = s.run_id;
      v.date = s.game_date;
      v.state = RunState::kFinished;
      v.result.run_id = s.run_id;
      v.result.date = s.game_date;
    }
    v.submitted_at_micros = v.submitted_at_micros
                                ? std::min(v.submitted_at_micros, s.started_at_micros)
                                : s.started_at_micros;
    v.result.steps.push_back(std::move(s));
  }
  std::vector<RunView> out;
  static const std::map<std::string, int> kOrder = {
      {"grading", 0}, {"daily_performance", 1}, {"performance_summary", 2}};
  for (auto& [id, v] : by_id) {
    std::stable_sort(
        v.result.steps.begin(), v.result.steps.end(), [](const RunSummary& a, const RunSummary& b) {
          auto oa = kOrder.find(a.processor), ob = kOrder.find(b.processor);
          return (oa == kOrder.end() ? 9 : oa->second) < (ob == kOrder.end() ? 9 : ob->second);
        });
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace

void Server::RouteRuns() {
  httplib::Server& h = *http_;
  // ---- /v1: runs ----
  h.Post("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    if (TooLarge(req, res)) return;
    bool wait = false;
    if (req.has_param("wait")) {
      std::string w = req.get_param_value("wait");
      if (w == "true" || w == "1") {
        wait = true;
      } else if (w != "false" && w != "0") {
        return SetError(res, 400, "wait must be true or false");
      }
    }
    auto trigger = ParseTrigger(req.body);
    if (!trigger.ok()) return SetStatusError(res, trigger.status());
    auto date = ResolveTargetDate(trigger->target_date, d_.config->timezone, d_.clock->NowMicros());
    if (!date.ok()) return SetStatusError(res, date.status());
    RunOptions options;
    options.aggregate = trigger->run_aggregation;
    options.allow_shrink = trigger->allow_shrink;
    options.trigger_source = trigger->trigger_source;
    options.correlation_id = trigger->correlation_id;
    auto sub = runs_->Submit(*date, options);
    if (!sub.ok()) return SetStatusError(res, sub.status());
    d_.log->Info("run_triggered", {{"run_id", Value::Text(sub->run_id)},
                                   {"target_date", Value::Text(date->ToString())},
                                   {"joined", Value::Bool(sub->joined)},
                                   {"trigger_source", Value::Text(options.trigger_source)},
                                   {"correlation_id", Value::Text(options.correlation_id)}});
    res.set_header("Location", "/v1/runs/" + sub->run_id);
    if (!wait) {
      res.status = 202;
      res.set_content(Dump({{"run_id", sub->run_id},
                            {"target_date", date->ToString()},
                            {"joined", sub->joined}}),
                      kJson);
      return;
    }
    std::optional<RunView> view =
        runs_->Wait(sub->run_id, static_cast<int64_t>(o_.wait_timeout_seconds * 1e6));
    if (!view) return SetError(res, 404, "run " + sub->run_id + " is no longer known");
    if (view->state == RunState::kQueued || view->state == RunState::kRunning) {
      // Not done within wait_timeout_seconds: the caller polls GET /v1/runs/{id}.
      res.status = 202;
      res.set_content(Dump({{"run_id", sub->run_id},
                            {"target_date", date->ToString()},
                            {"joined", sub->joined},
                            {"state", std::string(RunStateName(view->state))},
                            {"status", "running"},
                            {"waited_seconds", o_.wait_timeout_seconds}}),
                      kJson);
      return;
    }
    res.status = view->http_status();
    if (double retry = view->retry_after_seconds(); retry > 0) {
      res.set_header("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(retry))));
    }
    res.set_content(view->ToJson(), kJson);
  });

  h.Get(R"(/v1/runs/([A-Za-z0-9_.:-]{1,100}))",
        [this](const httplib::Request& req, httplib::Response& res) {
          std::string id = req.matches[1];
          if (auto view = runs_->Get(id)) {
            res.set_content(view->ToJson(), kJson);
            return;
          }
          auto store = ReadStore();
          if (!store.ok()) return SetStatusError(res, store.status());
          std::vector<Row> rows;
          ScanSpec spec;
          spec.range_column = "run_id";
          spec.partition_from = id;
          spec.partition_to = id;
          Status s = (*store)->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
            rows.push_back(std::move(r));
            return OkStatus();
          });
          if (!s.ok()) return SetStatusError(res, s);
          std::vector<RunView> stored = StoredRuns(std::move(rows));
          if (stored.empty()) return SetError(res, 404, "no run with id " + id);
          res.set_content(stored.front().ToJson(), kJson);
        });
  h.Get(R"(/v1/runs/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    SetError(res, 404, "no run with id " + std::string(req.matches[1]));
  });

  h.Get("/v1/runs", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("date")) return SetError(res, 400, "date=YYYY-MM-DD is required");
    std::optional<CivilDay> date = CivilDay::Parse(req.get_param_value("date"));
    if (!date) return SetError(res, 400, "date must be YYYY-MM-DD (a real date)");
    std::vector<RunView> runs = runs_->ForDate(*date);
    auto store = ReadStore();
    if (!store.ok()) return SetStatusError(res, store.status());
    std::vector<Row> rows;
    ScanSpec spec;
    spec.partition = date->ToString();
    Status s = (*store)->Scan(tables::GradingRuns(), spec, [&](Row&& r) {
      rows.push_back(std::move(r));
      return OkStatus();
    });
    if (!s.ok()) return SetStatusError(res, s);
    for (RunView& v : StoredRuns(std::move(rows))) {
      bool known = false;
      for (const RunView& r : runs) known = known || r.run_id == v.run_id;
      if (!known) runs.push_back(std::move(v));
    }
    std::stable_sort(runs.begin(), runs.end(), [](const RunView& a, const RunView& b) {
      return a.submitted_at_micros > b.submitted_at_micros;
    });
    std::string body = "{\"runs\":[";
    for (size_t i = 0; i < runs.size(); ++i) body += (i ? "," : "") + runs[i].ToJson();
    res.set_content(body + "]}", kJson);
  });
}

}  // namespace propgrade::server
