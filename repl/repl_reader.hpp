// Line input for the REPL: libedit on a terminal (editing, history, completion), plain reads otherwise.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace snag::cli {

// Completion candidates for the word being typed: line is everything before it.
using Completer = std::function<std::vector<std::string>(const std::string& line, const std::string& word)>;

class LineReader {
public:
    virtual ~LineReader() = default;
    // nullopt at end of input (Ctrl-D); interrupted() tells a Ctrl-C apart from it.
    virtual std::optional<std::string> read(const char* prompt) = 0;
    virtual void remember(const std::string& line) = 0;  // add to history
};

// libedit's readline interface; history persists in history_path (may be empty: no file).
// interrupted() says a Ctrl-C came: the line being typed ends (read returns nullopt).
std::unique_ptr<LineReader> make_edit_reader(const std::string& history_path, Completer completer,
                                             std::function<bool()> interrupted = {});
// Reads stdin line by line without prompts, for scripts piped into `snag repl`.
std::unique_ptr<LineReader> make_stream_reader();

// $SNAG_HISTORY, else ~/.local/share/snag/history (the directory is created).
std::string default_history_path();

}  // namespace snag::cli
