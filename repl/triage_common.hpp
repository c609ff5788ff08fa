// What snag triage, snag buckets and snag collect share: the store they open, the worker that
// analyses one dump, and numbers from the command line.
#pragma once

#include <memory>
#include <string>

#include "cli.hpp"
#include "triage/store.hpp"

namespace snag::cli {

// --db FILE, else the default store (triage/store.hpp).
Expected<std::unique_ptr<triage::Store>> open_store(Args& args);

// In a worker process: analyses the dump and prints the export JSON (stdlib/snag/triage.lua).
int analyse_for_triage(const std::string& path);

// An integer option in [lo, hi]; fallback when absent.
Expected<long> int_option(Args& args, const std::string& name, long fallback, long lo, long hi);

// This machine's name (--host overrides it).
std::string host_name(Args& args);

// Expected<std::string> analyze_core_export lives in cmd_analyze.cpp: the rules pack on a core,
// then export_chunk evaluated in the same session.
Expected<std::string> analyze_core_export(const std::string& core, const std::string& export_chunk);

}  // namespace snag::cli
