#include "support/secret_search.hpp"

#include <sstream>

namespace cc::test {

namespace {

// /proc is searched by hand; /sys holds no files of ours. /usr, /opt and /lib* are the
// host's system directories mounted read-only, gigabytes that would dominate the suite:
// there every file changed since the test began is read (nothing else can hold a value made
// during the test).
constexpr const char* kSearch = R"PY(
import os, sys
import subprocess
marker = sys.stdin.readline().strip().encode()
since = int(sys.stdin.readline())
assert len(marker) > 16
def leak(where):
    print("LEAK " + where)
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("environ", "cmdline"):
        try:
            if marker in open("/proc/%s/%s" % (pid, name), "rb").read():
                leak("/proc/%s/%s" % (pid, name))
        except OSError:
            pass
if any(marker in v.encode() for v in os.environ.values()):
    leak("environment")
skip = {"/proc", "/sys", "/usr", "/opt", "/lib", "/lib32", "/lib64", "/libx32"}
for top, dirs, files in os.walk("/", followlinks=False):
    if top in skip:
        dirs[:] = []
        continue
    dirs[:] = [d for d in dirs if os.path.join(top, d) not in skip]
    for f in files:
        path = os.path.join(top, f)
        try:
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            with open(path, "rb") as fh:
                if marker in fh.read():
                    leak(path)
        except OSError:
            pass
system = [d for d in sorted(skip - {"/proc", "/sys"}) if os.path.isdir(d) and not os.path.islink(d)]
changed = subprocess.run(["find"] + system + ["-type", "f", "(", "-newermt", "@%d" % since, "-o", "-newerct",
                         "@%d" % since, ")", "-print0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
for path in filter(None, changed.split(b"\0")):
    try:
        with open(path, "rb") as fh:
            if marker in fh.read():
                leak(path.decode(errors="replace"))
    except OSError:
        pass
print("system_files_changed=%d" % len(list(filter(None, changed.split(b"\0")))))
readable = 0
try:
    regions = [l.split() for l in open("/proc/1/maps")]
    with open("/proc/1/mem", "rb", 0) as mem:
        for r in regions:
            if "r" not in r[1]:
                continue
            start, end = (int(x, 16) for x in r[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError, OverflowError):
                continue
            readable = 1
            if marker in data:
                leak("/proc/1/mem " + r[0] + " " + (r[5] if len(r) > 5 else ""))
except OSError:
    pass
print("mem_readable=%d" % readable)
print("search-done")
)PY";

}  // namespace

SecretSearch search_container_for_secret(const EngineEnv& env, const std::string& marker, std::time_t since) {
  auto r = env.exec({"python3", "-c", kSearch}, marker + "\n" + std::to_string(since) + "\n");
  SecretSearch result;
  result.output = r.out + r.err;
  result.completed = r.out.find("search-done") != std::string::npos &&
                     r.out.find("system_files_changed=") != std::string::npos;
  result.pid1_memory_readable = r.out.find("mem_readable=1") != std::string::npos;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("LEAK ", 0) == 0) result.leaks.push_back(line);
  }
  return result;
}

}  // namespace cc::test
