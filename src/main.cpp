#include "cli/app.hpp"

int main(int argc, char** argv) { return cc::cli::run(argc, argv); }
