// A stand-in for Apple's `container` CLI, installed by tests as <root>/bin/container (a copy of
// this program, found first on PATH). It records every call (argv, one JSON line each, in
// <root>/apple/calls.jsonl), keeps the containers, images and volumes it was told to make in
// <root>/apple/state.json, and answers with the output samples of one release
// (tests/data/apple/<version>/, named in <root>/apple/config.json), patched with the names and
// labels of the call. Like the real CLI of that release it rejects the options the release did
// not have, so an argument list built for another release fails here as it would on a Mac.
//
// config.json: {"version": "1.2.2", "samples": "/abs/dir", "exec_status": 0}
// state.json:  {"service_up": bool, "containers": {name: {"state", "image", "labels"}},
//               "images": {tag: labels}, "volumes": {name: labels}}
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path g_dir;  // <root>/apple
json g_config;
json g_state;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void save_state() {
  const fs::path tmp = g_dir / "state.json.tmp";
  std::ofstream(tmp) << g_state.dump(2);
  fs::rename(tmp, g_dir / "state.json");
}

struct Version {
  int major = 0, minor = 0, patch = 0;
  bool at_least(int ma, int mi) const { return major != ma ? major > ma : minor >= mi; }
};

Version version() {
  Version v;
  std::sscanf(g_config.value("version", "0.0.0").c_str(), "%d.%d.%d", &v.major, &v.minor, &v.patch);
  return v;
}

fs::path sample_path(const std::string& name) { return fs::path(g_config.value("samples", "")) / name; }

// Replays <case>.stdout/.stderr/.status verbatim and exits.
[[noreturn]] void replay(const std::string& name) {
  std::cout << read_text(sample_path(name + ".stdout"));
  std::cerr << read_text(sample_path(name + ".stderr"));
  const std::string status = read_text(sample_path(name + ".status"));
  std::cout.flush();
  std::exit(status.empty() ? 0 : std::atoi(status.c_str()));
}

[[noreturn]] void fail(const std::string& message, int status = 1) {
  std::cerr << "Error: " << message << "\n";
  std::exit(status);
}

// ArgumentParser's answer to an option the release does not have (exit 64).
[[noreturn]] void unknown_option(const std::string& option) { fail("Unknown option '" + option + "'", 64); }

// A sample's JSON array, its first element patched to describe `name`.
json patched_container(const std::string& name, const json& record) {
  const bool running = record.value("state", "") == "running";
  json list = json::parse(read_text(sample_path(running ? "inspect-running.stdout" : "inspect-stopped.stdout")));
  json item = list.at(0);
  item["configuration"]["id"] = name;
  item["configuration"]["labels"] = record.value("labels", json::object());
  item["configuration"]["image"]["reference"] = record.value("image", "");
  if (item["status"].is_object()) {  // 1.0+
    item["id"] = name;
    item["status"]["state"] = record.value("state", "stopped");
  } else {
    item["status"] = record.value("state", "stopped");
  }
  return item;
}

// Options that take a value, per command, and the release that brought each option.
struct Option {
  const char* name;
  bool takes_value;
  int since_major, since_minor;
  const char* canonical = nullptr;  // a short option's long name
};

const std::vector<Option> kRunOptions{
    {"--detach", false, 0, 0},  {"-d", false, 0, 0, "--detach"},         {"--name", true, 0, 0},
    {"--label", true, 0, 0},    {"-l", true, 0, 0, "--label"},          {"--env", true, 0, 0},
    {"-e", true, 0, 0, "--env"},         {"--workdir", true, 0, 0},   {"-w", true, 0, 0, "--workdir"},
    {"--user", true, 0, 0},     {"-u", true, 0, 0, "--user"},          {"--cpus", true, 0, 0},
    {"-c", true, 0, 0, "--cpus"},         {"--memory", true, 0, 0},    {"-m", true, 0, 0, "--memory"},
    {"--volume", true, 0, 0},   {"-v", true, 0, 0, "--volume"},          {"--mount", true, 0, 0},
    {"--tmpfs", true, 0, 0},    {"--network", true, 0, 0},   {"--publish-socket", true, 0, 0},
    {"--ssh", false, 0, 4},     {"--entrypoint", true, 0, 0}, {"--read-only", false, 0, 8},
    {"--ulimit", true, 0, 9},   {"--init", false, 0, 10},    {"--cap-add", true, 0, 12},
    {"--cap-drop", true, 0, 12}, {"--interactive", false, 0, 0}, {"-i", false, 0, 0, "--interactive"},
    {"--tty", false, 0, 0},     {"-t", false, 0, 0, "--tty"},         {"--rm", false, 0, 0},
};

const Option* find_option(const std::vector<Option>& options, const std::string& arg) {
  for (const auto& option : options)
    if (arg == option.name) return &option;
  return nullptr;
}

struct Parsed {
  std::vector<std::pair<std::string, std::string>> options;  // in order
  std::vector<std::string> positional;
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [key, value] : options)
      if (key == name) out.push_back(value);
    return out;
  }
  bool has(const std::string& name) const {
    for (const auto& option : options)
      if (option.first == name) return true;
    return false;
  }
};

// Options before the first positional argument; everything from the positional ones on is
// kept as given when `rest_after` positionals were seen (the image and its command).
Parsed parse(const std::vector<std::string>& args, std::size_t from, const std::vector<Option>& options,
             std::size_t rest_after) {
  Parsed out;
  const Version v = version();
  for (std::size_t i = from; i < args.size(); ++i) {
    if (out.positional.size() >= rest_after || args[i].empty() || args[i][0] != '-') {
      out.positional.push_back(args[i]);
      continue;
    }
    const Option* option = find_option(options, args[i]);
    if (option == nullptr || !v.at_least(option->since_major, option->since_minor)) unknown_option(args[i]);
    std::string value;
    if (option->takes_value) {
      if (i + 1 >= args.size()) fail("Missing value for '" + args[i] + "'", 64);
      value = args[++i];
    }
    out.options.emplace_back(option->canonical != nullptr ? option->canonical : option->name, value);
  }
  return out;
}

json labels_of(const Parsed& parsed) {
  json labels = json::object();
  for (const auto& label : parsed.all("--label")) {
    const auto eq = label.find('=');
    labels[label.substr(0, eq)] = eq == std::string::npos ? "" : label.substr(eq + 1);
  }
  return labels;
}

int run(const std::vector<std::string>& args) {
  const Parsed p = parse(args, 1, kRunOptions, 1);
  if (p.positional.empty()) fail("Missing expected argument '<image>'", 64);
  const std::string image = p.positional[0];
  const auto names = p.all("--name");
  if (names.empty()) fail("the stand-in wants --name: the engine always names its containers");
  const std::string& name = names.back();
  if (g_state["containers"].contains(name)) fail("exists: \"container with id " + name + " already exists\"");
  if (!g_state["images"].contains(image)) fail("notFound: \"image not found: " + image + "\"");
  // ArgumentParser's checks: --cpus is an Int64, --memory a number with an optional K/M/G/T/P.
  for (const auto& cpus : p.all("--cpus"))
    if (cpus.empty() || cpus.find_first_not_of("0123456789") != std::string::npos)
      fail("The value '" + cpus + "' is invalid for '--cpus <cpus>'", 64);
  for (const auto& memory : p.all("--memory")) {
    const auto digits = memory.find_first_not_of("0123456789");
    if (digits == 0 || (digits != std::string::npos &&
                        (digits + 1 != memory.size() || std::string("KMGTPkmgtp").find(memory[digits]) == std::string::npos)))
      fail("invalidArgument: \"invalid memory value " + memory + "\"");
  }
  const Version v = version();
  for (const auto& network : p.all("--network"))
    if (network == "none" && !v.at_least(0, 6)) fail("notFound: \"network none not found\"");
  for (const auto& volume : p.all("--volume")) {
    const auto colon = volume.find(':');
    if (colon == std::string::npos) fail("invalidArgument: \"anonymous volumes are not supported\"");
    const std::string source = volume.substr(0, colon);
    if (source.front() == '/') {
      struct stat st {};
      if (::stat(source.c_str(), &st) != 0) fail("invalidArgument: \"path '" + source + "' does not exist\"");
    } else if (!g_state["volumes"].contains(source)) {
      if (!v.at_least(0, 6)) fail("invalidArgument: \"volume '" + source + "' not found\"");
      g_state["volumes"][source] = json::object();  // 0.6+: auto-created, empty
    }
  }
  g_state["containers"][name] = {{"state", "running"}, {"image", image}, {"labels", labels_of(p)}};
  save_state();
  std::cout << name << "\n";
  return 0;
}

int exec(const std::vector<std::string>& args) {
  const std::vector<Option> options{{"--interactive", false, 0, 0}, {"-i", false, 0, 0, "--interactive"}, {"--tty", false, 0, 0},
                                    {"-t", false, 0, 0, "--tty"}, {"--env", true, 0, 0}, {"-e", true, 0, 0, "--env"},
                                    {"--user", true, 0, 0}, {"-u", true, 0, 0, "--user"}, {"--workdir", true, 0, 0},
                                    {"-w", true, 0, 0, "--workdir"}, {"--detach", false, 0, 0}};
  const Parsed p = parse(args, 1, options, 1);
  if (p.positional.size() < 2) fail("invalidArgument: \"no command specified for exec\"");
  const std::string& name = p.positional[0];
  if (!g_state["containers"].contains(name)) fail("notFound: \"container " + name + " not found\"");
  if (g_state["containers"][name].value("state", "") != "running")
    fail("invalidState: \"container " + name + " is not running\"");
  // What the process would see of the variables named by bare `--env KEY`, so tests can check
  // that values reach the CLI's environment and not its arguments.
  std::cout << "stand-in exec in " << name << ":";
  for (std::size_t i = 1; i < p.positional.size(); ++i) std::cout << " " << p.positional[i];
  std::cout << "\n";
  for (const auto& env : p.all("--env"))
    if (env.find('=') == std::string::npos) {
      const char* value = std::getenv(env.c_str());
      std::cout << "env " << env << (value != nullptr ? "=" + std::string(value) : " unset") << "\n";
    }
  return g_config.value("exec_status", 0);
}

int container_command(const std::vector<std::string>& args) {
  const std::string& command = args[0];
  auto& containers = g_state["containers"];
  auto name_at_end = [&]() -> std::string {
    if (args.size() < 2 || args.back().front() == '-') fail("Missing expected argument '<container-id>'", 64);
    return args.back();
  };
  if (command == "run") return run(args);
  if (command == "exec") return exec(args);
  if (command == "inspect") {
    const std::string name = name_at_end();
    if (!containers.contains(name)) replay("inspect-unknown");
    const json item = patched_container(name, containers[name]);
    std::cout << json::array({item}).dump(version().at_least(1, 0) ? 2 : -1) << "\n";
    return 0;
  }
  if (command == "list" || command == "ls") {
    // --all or not, the stand-in answers with every container; the engine must not rely on list.
    json out = json::array();
    for (const auto& [name, record] : containers.items()) out.push_back(patched_container(name, record));
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (command == "start") {
    const std::string name = name_at_end();
    if (!containers.contains(name)) fail("notFound: \"container " + name + " not found\"");
    containers[name]["state"] = "running";
    save_state();
    std::cout << name << "\n";
    return 0;
  }
  if (command == "stop") {
    const Parsed p = parse(args, 1, {{"--time", true, 0, 0}, {"-t", true, 0, 0, "--time"}, {"--signal", true, 0, 0}}, 1);
    if (p.positional.size() != 1) fail("Missing expected argument '<container-ids>'", 64);
    const std::string& name = p.positional[0];
    if (!containers.contains(name)) fail("notFound: \"container " + name + " not found\"");
    containers[name]["state"] = "stopped";
    save_state();
    std::cout << name << "\n";
    return 0;
  }
  if (command == "delete" || command == "rm") {
    const Parsed p = parse(args, 1, {{"--force", false, 0, 0}, {"-f", false, 0, 0, "--force"}}, 1);
    if (p.positional.size() != 1) fail("Missing expected argument '<container-ids>'", 64);
    const std::string& name = p.positional[0];
    if (!containers.contains(name)) fail("notFound: \"container " + name + " not found\"");
    if (containers[name].value("state", "") == "running" && !p.has("--force"))
      fail("invalidState: \"container " + name + " is running\"");
    containers.erase(name);
    save_state();
    std::cout << name << "\n";
    return 0;
  }
  if (command == "logs") {
    const Parsed p = parse(args, 1, {{"--follow", false, 0, 0}, {"-f", false, 0, 0, "--follow"}, {"-n", true, 0, 0}}, 1);
    if (p.positional.size() != 1) fail("Missing expected argument '<container-id>'", 64);
    if (!containers.contains(p.positional[0])) fail("notFound: \"container " + p.positional[0] + " not found\"");
    std::cout << "stand-in log of " << p.positional[0] << "\n";
    return 0;
  }
  if (command == "build") {
    const Parsed p = parse(args, 1,
                           {{"--tag", true, 0, 0}, {"-t", true, 0, 0, "--tag"}, {"--file", true, 0, 0}, {"-f", true, 0, 0, "--file"},
                            {"--label", true, 0, 0}, {"--build-arg", true, 0, 0}, {"--progress", true, 0, 0},
                            {"--no-cache", false, 0, 0}},
                           1);
    if (p.positional.size() != 1) fail("Missing expected argument '<context-dir>'", 64);
    const auto files = p.all("--file");
    if (!files.empty() && !fs::exists(files.back())) fail("notFound: \"" + files.back() + " not found\"");
    for (const auto& tag : p.all("--tag")) g_state["images"][tag] = labels_of(p);
    save_state();
    std::cout << "#1 [internal] load build definition from Containerfile\n#1 DONE 0.0s\n";
    return 0;
  }
  if (command == "image" && args.size() >= 3) {
    const std::string& tag = args.back();
    if (args[1] == "inspect") {
      if (!g_state["images"].contains(tag)) replay("image-inspect-unknown");
      json list = json::parse(read_text(sample_path("image-inspect.stdout")));
      for (auto& variant : list.at(0)["variants"]) variant["config"]["config"]["Labels"] = g_state["images"][tag];
      std::cout << list.dump(version().at_least(1, 0) ? 2 : -1) << "\n";
      return 0;
    }
    if (args[1] == "delete" || args[1] == "rm") {
      if (!g_state["images"].contains(tag)) replay("image-inspect-unknown");
      g_state["images"].erase(tag);
      save_state();
      std::cout << tag << "\n";
      return 0;
    }
  }
  if (command == "volume" && args.size() >= 3) {
    const std::string& name = args.back();
    if (args[1] == "create") {
      if (g_state["volumes"].contains(name)) fail("exists: \"volume " + name + " already exists\"");
      const Parsed p = parse(args, 2, {{"--label", true, 0, 0}, {"--opt", true, 0, 0}, {"-s", true, 0, 0}}, 1);
      g_state["volumes"][name] = labels_of(p);
      save_state();
      std::cout << name << "\n";
      return 0;
    }
    if (args[1] == "delete" || args[1] == "rm") {
      if (!g_state["volumes"].contains(name)) fail("notFound: \"volume " + name + " not found\"");
      g_state["volumes"].erase(name);
      save_state();
      std::cout << name << "\n";
      return 0;
    }
  }
  // Apple's CLI looks unknown subcommands up as plugins.
  fail("Plugin 'container-" + command + "' not found");
}

int system_command(const std::vector<std::string>& args) {
  const std::string sub = args.size() > 1 ? args[1] : "";
  if (sub == "status") replay(g_state.value("service_up", false) ? "system-status-running" : "system-status-down");
  if (sub == "version") {
    if (!version().at_least(0, 8)) fail("Unexpected argument 'version'", 64);
    replay("system-version");
  }
  if (sub == "start") {
    const bool answered = std::find(args.begin(), args.end(), "--enable-kernel-install") != args.end() ||
                          std::find(args.begin(), args.end(), "--disable-kernel-install") != args.end();
    if (!answered && !g_state.value("kernel_installed", false)) {
      // The first start asks on stdin; the stand-in never answers, as a non-interactive caller
      // would not.
      std::cout << "No default kernel configured.\nInstall the recommended default kernel? [Y/n]: ";
      fail("internalError: \"Failed to read user input\"");
    }
    g_state["service_up"] = true;
    g_state["kernel_installed"] = true;
    save_state();
    replay("system-start");
  }
  fail("Unexpected argument '" + sub + "'", 64);
}

}  // namespace

static int stand_in_main(int argc, char** argv) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  g_dir = self.parent_path().parent_path() / "apple";
  g_config = json::parse(read_text(g_dir / "config.json"), nullptr, false);
  if (!g_config.is_object()) {
    std::cerr << "stand-in: no " << (g_dir / "config.json") << "\n";
    return 70;
  }
  g_state = json::parse(read_text(g_dir / "state.json"), nullptr, false);
  if (!g_state.is_object()) g_state = json::object();
  for (const char* key : {"containers", "images", "volumes"})
    if (!g_state.contains(key)) g_state[key] = json::object();

  std::vector<std::string> args(argv + 1, argv + argc);
  {
    std::ofstream calls(g_dir / "calls.jsonl", std::ios::app);
    calls << json{{"argv", args}}.dump() << "\n";
  }
  if (args.empty()) fail("Missing subcommand", 64);
  if (args[0] == "--version") replay("version");
  if (args[0] == "system") return system_command(args);
  if (!g_state.value("service_up", false)) replay("service-down");
  return container_command(args);
}

int main(int argc, char** argv) {
  try {
    return stand_in_main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "stand-in: " << e.what() << "\n";
    return 70;
  }
}
