// The command line of a test tool (chaos-soak, retry-bench, watch-bench): --help prints the
// options, bad options print one line and give exit code 2.
#pragma once

#include <boost/program_options.hpp>

#include <cstdio>
#include <exception>
#include <functional>
#include <iostream>
#include <string_view>

namespace fdb::test {

// Parses `argv` against `desc` (which must declare "help"), then runs `check` (which may
// throw for values out of range). True: go on. False: stop with `exit_code`, 0 after
// --help (the options printed) or 2 after bad options ("TOOL: what" on stderr).
inline bool parse_tool_options(std::string_view tool, const boost::program_options::options_description& desc, int argc,
                               char** argv, int& exit_code, const std::function<void()>& check = {}) {
  namespace po = boost::program_options;
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc;
      exit_code = 0;
      return false;
    }
    po::notify(vm);
    if (check) check();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(tool.size()), tool.data(), e.what());
    exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace fdb::test
