# Included at the end of llama.cpp's own project() call when building llama-cpp-python
# (the Makefile passes -DCMAKE_PROJECT_llama.cpp_INCLUDE=<this file> in CMAKE_ARGS).
# llama-cpp-python forces LLAMA_BUILD_COMMON ON, but its Python package loads only libllama
# and libggml*: the common library (chat templates, argument parsing, an HTTP client, JSON)
# is never loaded and was ~45 % of the build's compile time. Forcing it OFF here, after
# llama-cpp-python's FORCE and before llama.cpp reads the option, skips it.
set(LLAMA_BUILD_COMMON OFF CACHE BOOL "llama: build common utils library" FORCE)
