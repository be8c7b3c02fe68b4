#include <cstring>

#include "cli/app.hpp"
#include "engine/image/host_network.hpp"
#include "engine/native/supervisor.hpp"
#include "net/network_service.hpp"

namespace {

// Internal verbs: this binary re-executed for one job (the container's supervisor, the
// confined network service, an image engine's host network side). They are dispatched before
// the command line is built, so such a process holds none of the CLI. One line per verb.
struct InternalVerb {
  const char* name;
  void (*entry)(int argc, char** argv);  // never returns
};

constexpr InternalVerb kInternalVerbs[] = {
    {cc::engine::native::kSupervisorVerb, cc::engine::native::supervisor_main},
    {cc::net::kNetworkServiceVerb, cc::net::network_service_main},
    {cc::engine::image::kImageNetworkVerb, cc::engine::image::image_network_main},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2) {
    for (const auto& verb : kInternalVerbs) {
      if (std::strcmp(argv[1], verb.name) == 0) verb.entry(argc, argv);
    }
  }
  return cc::cli::run(argc, argv);
}
