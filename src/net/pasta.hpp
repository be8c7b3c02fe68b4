#pragma once
// `full` network policy: a separate network namespace given user-mode NAT by pasta (passt),
// so the host's loopback services stay unreachable. Used only when pasta is installed.
#include <sys/types.h>

#include <optional>
#include <string>

namespace cc::net {

std::optional<std::string> find_pasta();  // path of the pasta binary, if installed

// Whether /dev/net/tun may be opened by any user: then pasta started by root runs as the
// container root's host ids (inside the sandbox's user namespace), else as the host's root.
bool tun_open_to_everyone();

// Attaches pasta to the network namespace of `sandbox_pid` (its user namespace too when
// rootless). Returns pasta's pid; pasta exits when the namespace goes away. Throws cc::Error.
pid_t attach_pasta(const std::string& pasta_path, pid_t sandbox_pid);

}  // namespace cc::net
