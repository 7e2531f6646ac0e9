#include "operator/version.hpp"
#include <cstdio>
int main() { std::printf("foreman-dispatch-bridge %s\n", fdb::kVersion); }
