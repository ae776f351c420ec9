// The schedule of a run over dates: RunDate (grading, then the aggregations of the date),
// and RunDates, which grades many dates with parallel workers or pipelines one date's reads
// and computations with the previous date's writes over helper connections (pipeline.h).
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <future>
#include <optional>
#include <thread>

#include "pipeline/pipeline.h"

namespace propgrade {

namespace {

// Resident memory of this process in bytes (0 when /proc is unreadable).
size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &pages, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// A multi-date run builds each date's rows on helper threads and frees them on the writer's:
// every thread's heap keeps its own high-water mark of free pages. Above 200 MB resident, hand
// the free pages back (malloc_trim costs page faults later, so not below).
void TrimHeapsAboveBudget() {
  constexpr size_t kBudgetBytes = size_t{200} << 20;
  if (ResidentBytes() > kBudgetBytes) malloc_trim(0);
}

}  // namespace

void Pipeline::DoAggregations(DateRun* run, const RunOptions& options) {
  if (!options.aggregate || run->steps.empty() || run->steps[0].status != RunStatus::kSuccess) {
    return;
  }
  for (Processor* p : after_grading_) {
    if (Cancelled()) return;
    run->steps.push_back(
        RunStep(*p, StartStep(p->name(), run->date, run->run_id, options), nullptr));
  }
}

DateRun Pipeline::RunDate(CivilDay date, const RunOptions& options) {
  return RunDate(date, NewRunId(), options);
}

DateRun Pipeline::RunDate(CivilDay date, const std::string& run_id, const RunOptions& options) {
  DateRun run;
  run.date = date;
  run.run_id = run_id;
  run.steps.push_back(GradeDate(date, run.run_id, options));
  DoAggregations(&run, options);
  return run;
}

std::vector<DateRun> Pipeline::RunDatesInOrder(
    const std::vector<CivilDay>& dates, const RunOptions& options,
    const std::function<void(const DateRun&, size_t, size_t)>& progress) {
  std::vector<DateRun> runs(dates.size());
  // Helpers on connections of their own; without them every step runs here. A date whose
  // read-ahead failed is graded again the ordinary way, so the helpers only save time.
  auto open_helper = [&]() -> std::unique_ptr<Store> {
    if (dates.size() <= 1 || !d_.store_factory || !EnsureReady().ok()) return nullptr;
    auto opened = d_.store_factory();
    if (!opened.ok()) return nullptr;
    (*opened)->UseSmallCache();
    return std::move(*opened);
  };
  std::unique_ptr<Store> grade_reader = open_helper();
  std::unique_ptr<Store> aggregate_reader = grade_reader ? open_helper() : nullptr;
  std::future<StepPrep> grade_ahead;
  auto start_grade = [&](size_t i) {
    if (!grade_reader || i >= dates.size() || Cancelled()) return;
    RunSummary step = StartStep(grading_->name(), dates[i], NewRunId(), options);
    grade_ahead = std::async(std::launch::async,
                             [this, step = std::move(step), store = grade_reader.get()]() mutable {
                               return PrepareStep(*grading_, std::move(step), store);
                             });
  };
  // The aggregations being computed (a future per step, in step order) and their date's
  // index: written after the next grading, each as soon as it is ready.
  std::vector<std::future<StepPrep>> aggregates_ahead;
  std::vector<Processor*> aggregates_of;  // the processor of each
  std::future<void> aggregate_task;
  size_t aggregate_index = 0;
  auto finish_aggregates = [&] {
    if (aggregates_ahead.empty()) return;
    DateRun& run = runs[aggregate_index];
    for (size_t k = 0; k < aggregates_ahead.size(); ++k) {
      StepPrep prep = aggregates_ahead[k].get();
      if (Cancelled() && k > 0) continue;  // as DoAggregations
      run.steps.push_back(CommitStep(*aggregates_of[k], std::move(prep), store_));
    }
    aggregates_ahead.clear();
    aggregates_of.clear();
    aggregate_task.get();
    if (progress) progress(run, aggregate_index + 1, dates.size());
    TrimHeapsAboveBudget();
  };

  start_grade(0);
  for (size_t i = 0; i < dates.size(); ++i) {
    if (Cancelled()) {
      finish_aggregates();
      runs.resize(i);
      break;
    }
    std::optional<StepPrep> prep;
    if (grade_ahead.valid()) prep = grade_ahead.get();
    start_grade(i + 1);
    DateRun& run = runs[i];
    run.date = dates[i];
    if (prep && prep->prepared.read.ok()) {
      run.run_id = prep->step.run_id;
      run.steps.push_back(Ready(&prep->step, store_)
                              ? CommitStep(*grading_, std::move(*prep), store_)
                              : std::move(prep->step));
    } else {
      run.run_id = NewRunId();
      run.steps.push_back(GradeDate(dates[i], run.run_id, options));
    }
    finish_aggregates();
    if (!aggregate_reader) {
      DoAggregations(&run, options);
    } else if (options.aggregate && run.steps[0].status == RunStatus::kSuccess && !Cancelled()) {
      // Both steps pass their breakers here; a refused one ends now, in step order.
      std::vector<RunSummary> steps;
      for (Processor* p : after_grading_) {
        RunSummary step = StartStep(p->name(), run.date, run.run_id, options);
        if (!Ready(&step, store_)) {
          run.steps.push_back(std::move(step));
        } else {
          steps.push_back(std::move(step));
          aggregates_of.push_back(p);
        }
      }
      if (!steps.empty()) {
        aggregate_index = i;
        std::vector<std::promise<StepPrep>> promises(steps.size());
        for (auto& promise : promises) aggregates_ahead.push_back(promise.get_future());
        aggregate_task = std::async(
            std::launch::async,
            [this, steps = std::move(steps), promises = std::move(promises),
             processors = aggregates_of, store = aggregate_reader.get()]() mutable {
              std::lock_guard<std::mutex> lock(aggregate_mu_);
              for (size_t k = 0; k < steps.size(); ++k) {
                promises[k].set_value(PrepareStep(*processors[k], std::move(steps[k]), store));
              }
            });
        continue;  // progress once they are written
      }
    }
    if (progress) progress(run, i + 1, dates.size());
  }
  finish_aggregates();
  return runs;
}

std::vector<DateRun> Pipeline::RunDates(
    const std::vector<CivilDay>& dates, const RunOptions& options, int jobs,
    const std::function<void(const DateRun&, size_t, size_t)>& progress) {
  if (jobs <= 1 || dates.size() <= 1) return RunDatesInOrder(dates, options, progress);
  std::vector<DateRun> runs(dates.size());
  // Phase 1: grade dates in parallel, one Store connection per worker.
  Status ready = EnsureReady();
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  std::mutex done_mu;
  std::vector<bool> graded(dates.size(), false);
  for (int w = 0; w < jobs; ++w) {
    workers.emplace_back([&] {
      auto store = ready.ok() && d_.store_factory
                       ? d_.store_factory()
                       : StatusOr<std::unique_ptr<Store>>(
                             ready.ok() ? UnavailableError("no store factory") : ready);
      while (true) {
        size_t i = next.fetch_add(1);
        if (i >= dates.size()) break;
        DateRun& run = runs[i];
        run.date = dates[i];
        run.run_id = NewRunId();
        if (Cancelled()) continue;
        if (!store.ok()) {
          RunSummary step = StartStep(grading_->name(), dates[i], run.run_id, options);
          reporter_.Finish(nullptr, &step, Allowed(&step) ? store.status() : OkStatus());
          run.steps.push_back(step);
        } else {
          run.steps.push_back(GradeDate(dates[i], run.run_id, options, store->get()));
        }
        std::lock_guard<std::mutex> lock(done_mu);
        graded[i] = true;
      }
    });
  }
  for (auto& t : workers) t.join();
  // Phase 2: the aggregations in date order.
  size_t done = 0;
  std::vector<DateRun> finished;
  for (size_t i = 0; i < dates.size(); ++i) {
    if (!graded[i]) continue;
    DoAggregations(&runs[i], options);
    if (progress) progress(runs[i], ++done, dates.size());
    finished.push_back(std::move(runs[i]));
  }
  return finished;
}

}  // namespace propgrade
