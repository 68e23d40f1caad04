// Nothing to compile: the driver comes from libFuzzer's runtime. SwiftPM needs one source file.
#include "libfuzzer.h"
