#include "checks/checks.h"

#include <algorithm>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "schema/schema.h"
#include "common/value_text.h"
#include "grading/grader.h"
#include "grading/rules.h"
#include "safety/circuit_breaker.h"
#include "safety/remediation.h"

namespace propgrade {

std::string_view CheckStatusName(CheckStatus s) {
  return s == CheckStatus::kPass ? "pass" : s == CheckStatus::kWarn ? "warn" : "fail";
}

int CheckReport::count(CheckStatus s) const {
  return static_cast<int>(std::count_if(checks.begin(), checks.end(),
                                        [s](const CheckResult& c) { return c.status == s; }));
}

namespace {

using json = nlohmann::ordered_json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

CheckResult Named(std::string name) {
  CheckResult r;
  r.name = std::move(name);
  return r;
}

class Suite {
 public:
  Suite(Store* store, Clock* clock, const CheckOptions& o, CivilDay yesterday)
      : store_(store), clock_(clock), o_(o), yesterday_(yesterday) {}

  // The dates of the window, oldest first.
  std::vector<CivilDay> Window() const {
    std::vector<CivilDay> days;
    for (int i = o_.days - 1; i >= 0; --i) days.push_back(yesterday_.AddDays(-i));
    return days;
  }

  StatusOr<std::vector<Row>> Partition(const TableDef& t, CivilDay d) {
    return store_->ReadPartition(t, d.ToString());
  }

  // Partitions to look at, per table.
  using Partitions = std::vector<std::pair<const TableDef*, std::vector<std::string>>>;

  // `tables`, each with the dates of the window.
  Partitions Dated(const std::vector<const TableDef*>& tables) const {
    std::vector<std::string> dates;
    for (CivilDay d : Window()) dates.push_back(d.ToString());
    Partitions out;
    for (const TableDef* t : tables) out.emplace_back(t, dates);
    return out;
  }

  // Every declared table with its newest `days` partitions (any partition type, in the order
  // of the partition column's values).
  StatusOr<Partitions> Declared() {
    Partitions out;
    for (const TableDef* t : store_->catalogue().declared()) {
      ASSIGN_OR_RETURN(std::vector<std::string> parts, store_->ListPartitions(*t));
      if (parts.size() > static_cast<size_t>(o_.days))
        parts.erase(parts.begin(), parts.end() - o_.days);
      out.emplace_back(t, std::move(parts));
    }
    return out;
  }

  // Sums the post-write duplicate counts of `partitions`; `window` says which, for people.
  StatusOr<CheckResult> Duplicates(const std::string& name, const Partitions& partitions,
                                   const std::string& window) {
    CheckResult r = Named(name);
    int64_t groups = 0, rows = 0;
    json per = json::object();
    for (const auto& [t, parts] : partitions) {
      for (const std::string& p : parts) {
        ASSIGN_OR_RETURN(DuplicateCount c, store_->CountDuplicates(*t, p));
        groups += c.groups;
        rows += c.surplus_rows;
        if (c.groups > 0)
          per[t->name + " " + p] = {
              {"groups", c.groups}, {"rows", c.surplus_rows}, {"sample_keys", c.sample_keys}};
      }
    }
    r.value = static_cast<double>(groups);
    r.threshold = "> 0 fails";
    r.status = groups > 0 ? CheckStatus::kFail : CheckStatus::kPass;
    r.summary = std::to_string(groups) + " duplicate key groups (" + std::to_string(rows) +
                " surplus rows) in " + window;
    r.details_json = Dump({{"surplus_rows", rows}, {"partitions", per}});
    return r;
  }

  // The table a processor's runs write (imports: the predictions).
  std::string TableOf(const std::string& processor) const {
    const TableDef* t = store_->catalogue().WrittenBy(processor);
    return t ? t->name : tables::Predictions().name;
  }

  std::string LastDays() const { return "the last " + std::to_string(o_.days) + " days"; }

  StatusOr<CheckResult> SourceDuplicates() {
    CheckResult r = Named("source_duplicates");
    int64_t surplus = 0;
    json per = json::object();
    for (CivilDay d : Window()) {
      ASSIGN_OR_RETURN(std::vector<Row> rows, Partition(tables::Predictions(), d));
      grading::Selection sel = grading::SelectPredictions(d, rows);
      surplus += sel.source_duplicates;
      if (sel.source_duplicates > 0) {
        per[d.ToString()] = {{"surplus_rows", sel.source_duplicates}, {"sample", sel.duplicate_samples}};
      }
    }
    r.value = static_cast<double>(surplus);
    r.threshold = "> 0 warns";
    r.status = surplus > 0 ? CheckStatus::kWarn : CheckStatus::kPass;
    r.summary = std::to_string(surplus) +
                " predictions share a business key with another (graded once each)";
    r.details_json = Dump({{"dates", per}});
    return r;
  }

  StatusOr<CheckResult> PredictionVolume() {
    CheckResult r = Named("prediction_volume");
    ASSIGN_OR_RETURN(std::vector<Row> rows, Partition(tables::Predictions(), yesterday_));
    std::set<std::string> ids;
    for (const Row& p : rows) ids.insert(FormatCell(p[pred::prediction_id]));
    int64_t n = static_cast<int64_t>(ids.size());
    r.value = static_cast<double>(n);
    r.threshold = "outside [" + std::to_string(o_.thresholds.daily_predictions_min) + ", " +
                  std::to_string(o_.thresholds.daily_predictions_max) + "] warns";
    bool inside = n >= o_.thresholds.daily_predictions_min && n <= o_.thresholds.daily_predictions_max;
    r.status = inside ? CheckStatus::kPass : CheckStatus::kWarn;
    r.summary = std::to_string(n) + " predictions for " + yesterday_.ToString();
    r.details_json = Dump({{"date", yesterday_.ToString()}});
    return r;
  }

  StatusOr<CheckResult> Ungraded() {
    CheckResult r = Named("ungraded_predictions");
    int64_t total = 0;
    double worst_share = 0;
    json per = json::object(), sample = json::array();
    std::map<std::string, std::string> last_status;  // date → latest grading status
    ScanSpec runs_spec;
    runs_spec.partition_from = Window().front().ToString();
    runs_spec.partition_to = yesterday_.ToString();
    runs_spec.columns = {"game_date", "processor", "status", "finished_at"};
    std::map<std::string, std::string> last_finish;
    RETURN_IF_ERROR(store_->Scan(tables::GradingRuns(), runs_spec, [&](Row&& row) {
      if (FormatCell(row[1]) != "grading") return OkStatus();
      std::string d = FormatCell(row[0]), at = FormatCell(row[3]);
      if (at >= last_finish[d]) {
        last_finish[d] = at;
        last_status[d] = FormatCell(row[2]);
      }
      return OkStatus();
    }));
    for (CivilDay d : Window()) {
      ASSIGN_OR_RETURN(std::vector<Row> actuals, Partition(tables::Actuals(), d));
      if (actuals.empty()) continue;  // only dates that have box scores
      ASSIGN_OR_RETURN(std::vector<Row> preds, Partition(tables::Predictions(), d));
      ASSIGN_OR_RETURN(std::vector<Row> graded, Partition(tables::Accuracy(), d));
      std::set<std::string> graded_ids, played;
      for (const Row& g : graded) graded_ids.insert(FormatCell(g[acc::prediction_id]));
      for (const Row& a : actuals) {
        played.insert(FormatCell(a[act::game_id]) + "|" + FormatCell(a[act::player_lookup]));
      }
      grading::Selection sel = grading::SelectPredictions(d, preds);
      std::map<std::string, int64_t> reasons;
      int64_t missing = 0;
      for (const Row* p : sel.kept) {
        std::string id = FormatCell((*p)[pred::prediction_id]);
        if (graded_ids.count(id)) continue;
        std::string reason;
        if (!played.count(FormatCell((*p)[pred::game_id]) + "|" + FormatCell((*p)[pred::player_lookup]))) {
          reason = "no actual row for the player";
        } else if (!last_status.count(d.ToString())) {
          reason = "not graded yet";
        } else if (last_status[d.ToString()] != "success") {
          reason = "last grading run ended " + last_status[d.ToString()];
        } else {
          reason = "graded before this prediction arrived";
        }
        ++reasons[reason];
        ++missing;
        if (sample.size() < 10) sample.push_back({{"date", d.ToString()}, {"prediction_id", id}, {"reason", reason}});
      }
      if (missing > 0) {
        json why = json::object();
        for (const auto& [reason, n] : reasons) why[reason] = n;
        per[d.ToString()] = {{"ungraded", missing}, {"kept", sel.kept.size()}, {"reasons", why}};
        worst_share = std::max(worst_share, static_cast<double>(missing) / std::max<size_t>(1, sel.kept.size()));
      }
      total += missing;
    }
    r.value = static_cast<double>(total);
    r.threshold = "> 0 warns; > 5% of a date fails";
    r.status = worst_share > 0.05 ? CheckStatus::kFail : total > 0 ? CheckStatus::kWarn : CheckStatus::kPass;
    r.summary = std::to_string(total) + " gradable predictions have no graded row";
    r.details_json = Dump({{"dates", per}, {"sample", sample}});
    return r;
  }

  StatusOr<CheckResult> ConfidenceScale() {
    CheckResult r = Named("confidence_scale");
    ScanSpec spec;
    spec.partition_from = Window().front().ToString();
    spec.partition_to = yesterday_.ToString();
    spec.columns = {"prediction_id", "confidence_score"};
    int64_t bad = 0;
    json sample = json::array();
    RETURN_IF_ERROR(store_->Scan(tables::Accuracy(), spec, [&](Row&& row) {
      auto c = row[1].ToReal();
      if (c && (*c < 0 || *c > 1)) {
        ++bad;
        if (sample.size() < 5) sample.push_back(FormatCell(row[0]));
      }
      return OkStatus();
    }));
    r.value = static_cast<double>(bad);
    r.threshold = "> 0 fails";
    r.status = bad > 0 ? CheckStatus::kFail : CheckStatus::kPass;
    r.summary = std::to_string(bad) + " graded confidences outside [0, 1]";
    r.details_json = Dump({{"sample", sample}});
    return r;
  }

  StatusOr<CheckResult> Freshness() {
    CheckResult r = Named("freshness");
    ASSIGN_OR_RETURN(std::vector<std::string> dates, store_->ListPartitions(tables::Predictions()));
    std::string newest;
    for (size_t i = dates.size() > 3 ? dates.size() - 3 : 0; i < dates.size(); ++i) {
      ScanSpec spec;
      spec.partition = dates[i];
      spec.columns = {"created_at"};
      RETURN_IF_ERROR(store_->Scan(tables::Predictions(), spec, [&](Row&& row) {
        newest = std::max(newest, FormatCell(row[0]));
        return OkStatus();
      }));
    }
    r.threshold = "warn >= " + FormatDouble(o_.thresholds.stale_hours_warn) + " h, fail >= " +
                  FormatDouble(o_.thresholds.stale_hours_fail) + " h";
    auto at = ParseTimestampMicros(newest);
    if (!at) {
      r.status = CheckStatus::kFail;
      r.summary = "no predictions at all";
      r.details_json = "{}";
      return r;
    }
    double hours = (clock_->NowMicros() - *at) / 3.6e9;
    r.value = grading::RoundHalfAway(hours, 1);
    r.status = hours >= o_.thresholds.stale_hours_fail   ? CheckStatus::kFail
               : hours >= o_.thresholds.stale_hours_warn ? CheckStatus::kWarn
                                                          : CheckStatus::kPass;
    r.summary = "the newest prediction is " + FormatDouble(*r.value) + " h old";
    r.details_json = Dump({{"newest_created_at", newest}});
    return r;
  }

  StatusOr<CheckResult> SystemCoverage() {
    CheckResult r = Named("system_coverage");
    std::set<std::string> systems;
    for (int i = 0; i < 3; ++i) {
      ScanSpec spec;
      spec.partition = yesterday_.AddDays(-i).ToString();
      spec.columns = {"system_id"};
      RETURN_IF_ERROR(store_->Scan(tables::Predictions(), spec, [&](Row&& row) {
        systems.insert(FormatCell(row[0]));
        return OkStatus();
      }));
    }
    r.value = static_cast<double>(systems.size());
    r.threshold = ">= " + std::to_string(o_.thresholds.expected_systems);
    r.status = static_cast<int>(systems.size()) >= o_.thresholds.expected_systems ? CheckStatus::kPass
                                                                                 : CheckStatus::kWarn;
    r.summary = std::to_string(systems.size()) + " systems predicted in the last 3 days";
    r.details_json = Dump({{"systems", std::vector<std::string>(systems.begin(), systems.end())}});
    return r;
  }

  StatusOr<CheckResult> DuplicateTrend() {
    CheckResult r = Named("duplicate_trend");
    // Daily duplicate rate (surplus rows / rows written) per table, from the post-write checks
    // recorded in grading_runs, by partition date.
    ScanSpec spec;
    spec.partition_from = yesterday_.AddDays(-13).ToString();
    spec.partition_to = yesterday_.ToString();
    spec.columns = {"game_date", "processor", "rows_written", "duplicate_rows"};
    std::map<std::string, std::map<std::string, std::pair<int64_t, int64_t>>> sums;  // table→day
    RETURN_IF_ERROR(store_->Scan(tables::GradingRuns(), spec, [&](Row&& row) {
      auto rows = row[2].ToInt(), dups = row[3].ToInt();
      if (!rows || *rows <= 0) return OkStatus();
      if (row[0].is_null()) return OkStatus();  // not a date partition: counted below
      auto& s = sums[TableOf(FormatCell(row[1]))][FormatCell(row[0])];
      s.first += dups.value_or(0);
      s.second += *rows;
      return OkStatus();
    }));
    // Declared tables partitioned by other values count by the day their runs finished (UTC),
    // the 14 days up to today.
    ScanSpec other;
    other.range_column = "finished_at";
    other.partition_from = yesterday_.AddDays(-12).ToString();
    other.partition_to = yesterday_.AddDays(1).ToString() + "T23:59:59.999999Z";
    other.columns = {"game_date", "processor", "rows_written", "duplicate_rows", "finished_at"};
    RETURN_IF_ERROR(store_->Scan(tables::GradingRuns(), other, [&](Row&& row) {
      auto rows = row[2].ToInt(), dups = row[3].ToInt();
      if (!row[0].is_null() || !rows || *rows <= 0) return OkStatus();
      auto& s = sums[TableOf(FormatCell(row[1]))][FormatCell(row[4]).substr(0, 10)];
      s.first += dups.value_or(0);
      s.second += *rows;
      return OkStatus();
    }));
    const std::string split = yesterday_.AddDays(-6).ToString();
    json per = json::object();
    bool warn = false;
    double worst = 0;
    for (const auto& [table, days] : sums) {
      double last = 0, prev = 0;
      int n_last = 0, n_prev = 0;
      for (const auto& [day, s] : days) {
        double rate = static_cast<double>(s.first) / static_cast<double>(s.second);
        if (day >= split) {
          last += rate;
          ++n_last;
        } else {
          prev += rate;
          ++n_prev;
        }
      }
      last = n_last ? last / n_last : 0;
      prev = n_prev ? prev / n_prev : 0;
      bool grew = prev > 0 ? last / prev > o_.thresholds.duplicate_trend_warn_ratio : last > 0;
      warn = warn || grew;
      if (prev > 0) worst = std::max(worst, last / prev);
      per[table] = {{"last_7_days", last}, {"previous_7_days", prev}, {"grew", grew}};
    }
    r.value = worst;
    r.threshold = "week over week > " + FormatDouble(o_.thresholds.duplicate_trend_warn_ratio) +
                  ", or from 0 to more, warns";
    r.status = warn ? CheckStatus::kWarn : CheckStatus::kPass;
    r.summary = warn ? "the duplicate rate grew week over week" : "no growth in the duplicate rate";
    r.details_json = Dump({{"tables", per}});
    return r;
  }

  // Declared tables: how long since each was last written (partition_versions, which every
  // fenced door records); a table never written warns.
  StatusOr<CheckResult> TableFreshness() {
    CheckResult r = Named("table_freshness");
    r.threshold = "warn >= " + FormatDouble(o_.thresholds.stale_hours_warn) +
                  " h, fail >= " + FormatDouble(o_.thresholds.stale_hours_fail) +
                  " h, never written warns";
    json per = json::object();
    double oldest = 0;
    std::vector<std::string> stale, never;
    for (const TableDef* t : store_->catalogue().declared()) {
      ASSIGN_OR_RETURN(const std::string newest, store_->LastChangedAt(*t));
      std::optional<int64_t> at = ParseTimestampMicros(newest);
      if (!at) {
        never.push_back(t->name);
        per[t->name] = {{"last_written_at", nullptr}};
        continue;
      }
      const double hours = (clock_->NowMicros() - *at) / 3.6e9;
      oldest = std::max(oldest, hours);
      if (hours >= o_.thresholds.stale_hours_warn) stale.push_back(t->name);
      per[t->name] = {{"last_written_at", newest}, {"hours", grading::RoundHalfAway(hours, 1)}};
    }
    r.value = grading::RoundHalfAway(oldest, 1);
    r.status = oldest >= o_.thresholds.stale_hours_fail                     ? CheckStatus::kFail
               : oldest >= o_.thresholds.stale_hours_warn || !never.empty() ? CheckStatus::kWarn
                                                                            : CheckStatus::kPass;
    r.summary = stale.empty() && never.empty()
                    ? "every declared table was written in the last " +
                          FormatDouble(o_.thresholds.stale_hours_warn) + " h"
                    : "stale: " + (stale.empty() ? "none" : Join(stale, ", ")) +
                          "; never written: " + (never.empty() ? "none" : Join(never, ", "));
    r.details_json = Dump({{"tables", per}});
    return r;
  }

  // Aggregates older than the graded rows they were computed from (a re-grade or rollback
  // whose daily performance or later summaries were not recomputed): a date's daily
  // partition is stale when its accuracy partition changed after it; a summary as of S when
  // any accuracy partition up to S changed after it. Warns when any is.
  StatusOr<CheckResult> StaleAggregates() {
    CheckResult r = Named("stale_aggregates");
    r.threshold = "warn > 0";
    const std::string from = Window().front().ToString(), to = yesterday_.ToString();
    ASSIGN_OR_RETURN(VersionMap accuracy, store_->PartitionVersions(tables::Accuracy(), "", to));
    ASSIGN_OR_RETURN(VersionMap daily,
                     store_->PartitionVersions(tables::DailyPerformance(), from, to));
    ASSIGN_OR_RETURN(VersionMap summary, store_->PartitionVersions(tables::Summary(), from, to));
    std::vector<std::string> stale_daily, stale_summary;
    int64_t newest_so_far = 0;
    for (const auto& [date, version] : accuracy) {
      newest_so_far = std::max(newest_so_far, version);
      if (date < from) continue;
      auto d = daily.find(date);
      if (d == daily.end() || d->second < version) stale_daily.push_back(date);
      // Summaries as of `date` count every accuracy partition up to it.
      if (auto s = summary.find(date); s != summary.end() && s->second < newest_so_far) {
        stale_summary.push_back(date);
      }
    }
    r.value = static_cast<double>(stale_daily.size() + stale_summary.size());
    r.status = *r.value > 0 ? CheckStatus::kWarn : CheckStatus::kPass;
    r.summary = *r.value == 0
                    ? "every daily and summary partition of " + LastDays() +
                          " is newer than the graded rows it counts"
                    : std::to_string(stale_daily.size()) + " daily and " +
                          std::to_string(stale_summary.size()) +
                          " summary partitions predate a change of the graded rows (`propgrade "
                          "aggregate` / `summarize` recompute them)";
    r.details_json = Dump({{"daily", stale_daily}, {"summary", stale_summary}});
    return r;
  }

  // Declared tables: the newest partition's row count against the median of the partitions
  // before it in the window; below half or above twice warns (a load that lost or doubled
  // rows). A table with one partition has nothing to compare with and passes.
  StatusOr<CheckResult> TableVolume(const Partitions& partitions) {
    CheckResult r = Named("table_volume");
    r.threshold = "newest partition outside [0.5, 2] x the median of the ones before warns";
    json per = json::object();
    std::vector<std::string> off;
    double worst = 1;
    for (const auto& [t, parts] : partitions) {
      if (parts.empty()) continue;
      std::vector<int64_t> counts;
      for (const std::string& p : parts) {
        ASSIGN_OR_RETURN(int64_t n, store_->CountPartitionRows(*t, p));
        counts.push_back(n);
      }
      const int64_t newest = counts.back();
      json entry = {{"partition", parts.back()}, {"rows", newest}};
      if (counts.size() > 1) {
        std::vector<int64_t> before(counts.begin(), counts.end() - 1);
        std::sort(before.begin(), before.end());
        const double median =
            before.size() % 2 ? static_cast<double>(before[before.size() / 2])
                              : (before[before.size() / 2 - 1] + before[before.size() / 2]) / 2.0;
        const double ratio = median > 0 ? newest / median : (newest > 0 ? 2.0 : 1.0);
        entry["median_before"] = median;
        entry["ratio"] = ratio;
        if (ratio < 0.5 || ratio > 2) {
          off.push_back(t->name + " " + parts.back());
          if (std::abs(std::log(std::max(ratio, 1e-9))) > std::abs(std::log(worst))) worst = ratio;
        }
      }
      per[t->name] = entry;
    }
    r.value = worst;
    r.status = off.empty() ? CheckStatus::kPass : CheckStatus::kWarn;
    r.summary = off.empty()
                    ? "every declared table's newest partition is in line with the ones before"
                    : "out of line: " + Join(off, ", ");
    r.details_json = Dump({{"tables", per}});
    return r;
  }

  StatusOr<CheckResult> LockHealth() {
    CheckResult r = Named("lock_health");
    ScanSpec spec;
    spec.range_column = "at";
    spec.partition_from = FormatTimestampMicros(clock_->NowMicros() - 24LL * 3600 * 1000000);
    spec.columns = {"event", "key"};
    std::map<std::string, int64_t> events;
    int64_t total = 0;
    RETURN_IF_ERROR(store_->Scan(tables::LockEvents(), spec, [&](Row&& row) {
      std::string e = FormatCell(row[0]);
      if (e == "acquire_timeout" || e == "lock_lost" || e == "fenced_out" || e == "force_released") {
        ++events[e];
        ++total;
      }
      return OkStatus();
    }));
    r.value = static_cast<double>(total);
    r.threshold = "> 0 warns";
    r.status = total > 0 ? CheckStatus::kWarn : CheckStatus::kPass;
    r.summary = std::to_string(total) + " lock timeouts, losses or force-releases in 24 h";
    json e = json::object();
    for (const auto& [k, v] : events) e[k] = v;
    r.details_json = Dump({{"events", e}});
    return r;
  }

  StatusOr<CheckResult> OrphanedStaging() {
    CheckResult r = Named("orphaned_staging");
    ASSIGN_OR_RETURN(OrphanReport o, FindOrphanedBatches(store_, clock_, 24LL * 3600 * 1000000));
    r.value = static_cast<double>(o.batches.size());
    r.threshold = "> 0 warns";
    r.status = o.batches.empty() ? CheckStatus::kPass : CheckStatus::kWarn;
    r.summary = std::to_string(o.batches.size()) + " staged batches older than 24 h never consolidated";
    r.details_json = Dump({{"batches", o.batches}, {"rows", o.rows}});
    return r;
  }

  StatusOr<CheckResult> Breakers() {
    CheckResult r = Named("breaker");
    r.threshold = "not closed warns";
    std::vector<std::string> open;
    if (o_.breaker) {
      ASSIGN_OR_RETURN(std::vector<BreakerStatus> all, o_.breaker->List());
      for (const BreakerStatus& b : all) {
        if (b.state != BreakerState::kClosed) {
          open.push_back(b.name + " " + std::string(BreakerStateName(b.state)));
        }
      }
    }
    r.value = static_cast<double>(open.size());
    r.status = open.empty() ? CheckStatus::kPass : CheckStatus::kWarn;
    r.summary = open.empty() ? "every circuit breaker is closed" : "not closed: " + Join(open, ", ");
    r.details_json = Dump({{"not_closed", open}});
    return r;
  }

 private:
  Store* store_;
  Clock* clock_;
  const CheckOptions& o_;
  CivilDay yesterday_;
};

}  // namespace

StatusOr<CheckReport> RunChecks(Store* store, Clock* clock, const CheckOptions& options) {
  if (options.days < 1) return InvalidArgumentError("--days must be at least 1");
  CheckReport report;
  report.checked_at_micros = clock->NowMicros();
  ASSIGN_OR_RETURN(CivilDay today, TodayInZone(options.timezone, report.checked_at_micros));
  report.yesterday = today.AddDays(-1);
  Suite suite(store, clock, options, report.yesterday);
  using Fn = std::function<StatusOr<CheckResult>()>;
  std::vector<std::pair<const char*, Fn>> checks = {
      {"accuracy_duplicates",
       [&] {
         return suite.Duplicates("accuracy_duplicates", suite.Dated({&tables::Accuracy()}),
                                 suite.LastDays());
       }},
      {"source_duplicates", [&] { return suite.SourceDuplicates(); }},
      {"aggregate_duplicates",
       [&] {
         return suite.Duplicates("aggregate_duplicates",
                                 suite.Dated({&tables::DailyPerformance(), &tables::Summary()}),
                                 suite.LastDays());
       }},
      {"prediction_volume", [&] { return suite.PredictionVolume(); }},
      {"ungraded_predictions", [&] { return suite.Ungraded(); }},
      {"confidence_scale", [&] { return suite.ConfidenceScale(); }},
      {"freshness", [&] { return suite.Freshness(); }},
      {"system_coverage", [&] { return suite.SystemCoverage(); }},
      {"duplicate_trend", [&] { return suite.DuplicateTrend(); }},
      {"lock_health", [&] { return suite.LockHealth(); }},
      {"orphaned_staging", [&] { return suite.OrphanedStaging(); }},
      {"breaker", [&] { return suite.Breakers(); }},
      {"stale_aggregates", [&] { return suite.StaleAggregates(); }},
  };
  // Declared tables add three checks (none without them, so the suite stays thirteen).
  StatusOr<Suite::Partitions> declared = Suite::Partitions{};
  if (!store->catalogue().declared().empty()) {
    declared = suite.Declared();
    auto with_partitions = [&](auto check) -> Fn {
      return [&, check]() -> StatusOr<CheckResult> {
        if (!declared.ok()) return declared.status();
        return check(*declared);
      };
    };
    checks.emplace_back("table_duplicates", with_partitions([&](const Suite::Partitions& p) {
                          return suite.Duplicates("table_duplicates", p,
                                                  "the newest " + std::to_string(options.days) +
                                                      " partitions of each declared table");
                        }));
    checks.emplace_back("table_freshness", [&] { return suite.TableFreshness(); });
    checks.emplace_back("table_volume", with_partitions([&](const Suite::Partitions& p) {
                          return suite.TableVolume(p);
                        }));
  }
  for (const auto& [name, fn] : checks) {
    auto result = fn();
    if (result.ok()) {
      report.checks.push_back(std::move(result).value());
    } else {
      CheckResult broken = Named(name);
      broken.status = CheckStatus::kFail;
      broken.summary = "the check itself failed: " + result.status().message();
      broken.details_json = Dump({{"error", result.status().message()}});
      report.checks.push_back(std::move(broken));
    }
  }
  return report;
}

Status RecordCheckResults(Store* store, const CheckReport& report) {
  std::vector<Row> rows;
  std::string at = FormatTimestampMicros(report.checked_at_micros);
  for (const CheckResult& c : report.checks) {
    Row row(checkcol::kNumColumns);
    row[checkcol::checked_at] = Value::Text(at);
    row[checkcol::name] = Value::Text(c.name);
    row[checkcol::status] = Value::Text(std::string(CheckStatusName(c.status)));
    row[checkcol::value] = Value::OptReal(c.value);
    row[checkcol::threshold] = Value::Text(c.threshold);
    row[checkcol::details_json] = Value::Text(c.details_json);
    rows.push_back(std::move(row));
  }
  return store->Append(tables::CheckResults(), rows);
}

}  // namespace propgrade
