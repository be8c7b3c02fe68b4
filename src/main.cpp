#include <cstring>

#include "cli/app.hpp"
#include "engine/image/host_network.hpp"
#include "net/network_service.hpp"

namespace {

// Internal verbs: this binary re-executed as one of its own helper processes, before (and
// instead of) the CLI. One line per verb.
struct InternalVerb {
  const char* name;
  void (*main)(int argc, char** argv);
};
constexpr InternalVerb kInternalVerbs[] = {
    {cc::net::kNetworkServiceVerb, cc::net::network_service_main},
    {cc::engine::image::kImageNetworkVerb, cc::engine::image::image_network_main},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1)
    for (const auto& verb : kInternalVerbs)
      if (std::strcmp(argv[1], verb.name) == 0) verb.main(argc, argv);
  return cc::cli::run(argc, argv);
}
