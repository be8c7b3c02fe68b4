#pragma once
// A long-lived process of this binary (the supervisor) touches most of the binary's code and
// read-only data while it starts, and keeps those page-cache pages mapped, and counted in its
// RSS, for its whole idle life although it never reads them again. This unmaps them.
namespace cc::engine::native {

// Records the program and the libraries loaded with it (never unloaded, unlike what dlopen
// may load and dlclose unmap). Call once, early, before any other thread exists.
void remember_startup_objects() noexcept;

// Drops this process's mappings of file pages it never wrote: executable and read-only file
// mappings with no private (copied-on-write) page, such as relocated data, of the objects
// remember_startup_objects recorded (so no mapping can be replaced meanwhile). The page cache
// keeps them (other processes of the binary share them); a later access maps them again. The
// kernel can then reclaim what an idle process does not use. Best effort; never fails.
void unmap_clean_file_pages() noexcept;

}  // namespace cc::engine::native
