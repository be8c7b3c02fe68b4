// The command line: global options, every command of DESIGN.md section 2, and the one place
// where errors become a sentence on stderr and an exit status.
#include "cli/app.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <set>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "cli/command_line.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

// exec, run and claude hand everything after the command word to the inner program, so
// `exec ls -la` and `exec -- ls -la` both work and the parser never sees "-la".
const std::set<std::string> kPassThroughCommands = {"exec", "run", "claude"};

std::vector<std::string> split_pass_through(int argc, char** argv) {
  std::vector<std::string> parser_args;
  parser_args.reserve(argc);
  int i = 1;
  for (; i < argc; ++i) {
    std::string word = argv[i];
    parser_args.push_back(word);
    if (word == "--project") {
      if (i + 1 < argc) parser_args.push_back(argv[++i]);
      continue;
    }
    if (!word.empty() && word[0] == '-') continue;
    break;  // the command word
  }
  if (i >= argc || kPassThroughCommands.count(argv[i]) == 0) {
    for (++i; i < argc; ++i) parser_args.push_back(argv[i]);
    return parser_args;
  }
  int first = i + 1;
  if (first < argc && (std::string(argv[first]) == "--help" || std::string(argv[first]) == "-h")) {
    parser_args.push_back(argv[first]);
    return parser_args;
  }
  if (first < argc && std::string(argv[first]) == "--") ++first;
  for (int k = first; k < argc; ++k) pass_through_args().words.push_back(argv[k]);
  return parser_args;
}

std::string help_hint(const CLI::App& app) {
  auto parsed = app.get_subcommands();
  if (!parsed.empty()) return "Run `claude-container " + parsed.front()->get_name() + " --help` for its usage.";
  return "Run `claude-container help` for the commands and their usage.";
}

std::string without_trailing_period(std::string text) {
  while (!text.empty() && (text.back() == '.' || text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string describe_parse_error(const CLI::ParseError& error, const CLI::App& app) {
  std::string what = without_trailing_period(error.what());
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    // CLI11: "The following argument(s) was/were not expected: a b".
    auto colon = what.find(": ");
    std::string words = colon == std::string::npos ? what : what.substr(colon + 2);
    bool is_option = !words.empty() && words[0] == '-';
    if (!is_option && app.get_subcommands().empty()) {
      return "unknown command '" + words + "'. " + help_hint(app);
    }
    return std::string(is_option ? "unknown option '" : "unexpected argument '") + words + "'. " + help_hint(app);
  }
  return "invalid command line: " + what + ". " + help_hint(app);
}

void report_error(const GlobalOptions& options, const std::string& sentence, ExitCode code) {
  std::cerr << "claude-container: " << sentence << '\n' << std::flush;
  if (options.json && !Console::json_printed()) {
    nlohmann::json object = {{"error", sentence}, {"exit_code", static_cast<int>(code)}};
    std::cout << object.dump(2) << '\n' << std::flush;
  }
}

}  // namespace

int run(int argc, char** argv) {
  // A reader that goes away (`| head`) ends output quietly instead of killing us mid-write.
  std::signal(SIGPIPE, SIG_IGN);

  GlobalOptions options;
  CommandTable table;
  bool show_version = false;
  auto app = build_command_line(options, table, show_version);

  std::vector<std::string> parser_args = split_pass_through(argc, argv);
  std::reverse(parser_args.begin(), parser_args.end());  // CLI11 consumes from the back
  try {
    app->parse(parser_args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app->help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app->help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& error) {
    report_error(options, describe_parse_error(error, *app), ExitCode::usage);
    return static_cast<int>(ExitCode::usage);
  }

  if (show_version) {
    std::cout << "claude-container " << CC_VERSION << '\n';
    return 0;
  }
  auto parsed = app->get_subcommands();
  if (parsed.empty()) {
    report_error(options,
                 "no command given. Run `claude-container help` for the commands, or `claude-container menu` "
                 "for the interactive menu.",
                 ExitCode::usage);
    return static_cast<int>(ExitCode::usage);
  }
  auto handler = table.find(parsed.front());
  if (handler == table.end()) {
    report_error(options, "internal error: command '" + parsed.front()->get_name() + "' has no handler.",
                 ExitCode::failure);
    return static_cast<int>(ExitCode::failure);
  }
  try {
    return handler->second();
  } catch (const Error& error) {
    report_error(options, error.what(), error.code());
    return static_cast<int>(error.code());
  } catch (const std::exception& error) {
    report_error(options, std::string(parsed.front()->get_name()) + " failed: " + error.what() + ".",
                 ExitCode::failure);
    return static_cast<int>(ExitCode::failure);
  }
}

}  // namespace cc::cli
