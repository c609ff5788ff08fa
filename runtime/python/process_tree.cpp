#include "python/process_tree.hpp"

#include <dirent.h>

#include <cstdlib>
#include <map>
#include <string>

#include "target/proc_fs.hpp"

namespace snag::python {

std::vector<int> descendant_pids(int root) {
    std::multimap<int, int> children;  // ppid → pid
    if (DIR* dir = opendir("/proc")) {
        while (dirent* entry = readdir(dir)) {
            char* end = nullptr;
            long pid = std::strtol(entry->d_name, &end, 10);
            if (!end || *end || pid <= 0) continue;
            auto text = proc::read_file(proc::pid_path(static_cast<int>(pid), "stat"));
            if (!text) continue;  // exited meanwhile
            if (auto stat = proc::parse_stat(*text)) children.emplace(stat->ppid, static_cast<int>(pid));
        }
        closedir(dir);
    }
    std::vector<int> out;
    std::vector<int> frontier{root};
    while (!frontier.empty() && out.size() < 100000) {
        std::vector<int> next;
        for (int parent : frontier) {
            auto [lo, hi] = children.equal_range(parent);
            for (auto it = lo; it != hi; ++it) {
                out.push_back(it->second);
                next.push_back(it->second);
            }
        }
        frontier = std::move(next);
    }
    return out;
}

}  // namespace snag::python
