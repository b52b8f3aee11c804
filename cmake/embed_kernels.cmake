# SPDX-License-Identifier: Apache-2.0
# Turns OpenCL C files into byte arrays: one NUL-terminated array per file, and
# a table `<PREFIX>_sources[]` of them in source order (PREFIX defaults to
# clnorm__kernel; the tool embeds its own kernels under another prefix).
# A line `#include "name"` is replaced by that file (from the including file's
# directory), the first time only: each kernel file includes what it uses, so
# that it compiles on its own (clang -x cl), and the program is one text.
cmake_minimum_required(VERSION 3.13) # IN_LIST
if(NOT PREFIX)
  set(PREFIX clnorm__kernel)
endif()

function(inline_includes path out_var)
  file(READ ${path} text)
  get_filename_component(dir ${path} DIRECTORY)
  string(REGEX MATCHALL "#include \"[^\"]+\"" includes "${text}")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" name "${line}")
    get_property(seen GLOBAL PROPERTY CLNORM_EMBED_SEEN)
    if(name IN_LIST seen)
      set(body "/* ${name}: inlined above */")
    else()
      set_property(GLOBAL APPEND PROPERTY CLNORM_EMBED_SEEN ${name})
      inline_includes(${dir}/${name} body)
      set(body "/* ---- ${name} ---- */\n${body}\n/* ---- end of ${name} ---- */")
    endif()
    string(REPLACE "${line}" "${body}" text "${text}")
  endforeach()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

set(out "/* Generated from the .cl files in kernels/ by cmake/embed_kernels.cmake. Do not edit. */\n#include <stddef.h>\n")
set(table "")
set(count 0)
foreach(path IN LISTS INPUTS)
  get_filename_component(name ${path} NAME_WE)
  set_property(GLOBAL PROPERTY CLNORM_EMBED_SEEN "")
  inline_includes(${path} text)
  file(WRITE ${OUTPUT}.src "${text}")
  file(READ ${OUTPUT}.src hex HEX)
  file(REMOVE ${OUTPUT}.src)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
  string(APPEND out "static const char kernel_${name}[] = {\n${bytes}0x00};\n")
  string(APPEND table "    {\"${name}.cl\", kernel_${name}, sizeof kernel_${name} - 1},\n")
  math(EXPR count "${count} + 1")
endforeach()
string(APPEND out "\nstruct ${PREFIX}_source { const char *name; const char *text; size_t length; };\n")
string(APPEND out "const struct ${PREFIX}_source ${PREFIX}_sources[] = {\n${table}};\n")
string(APPEND out "const size_t ${PREFIX}_source_count = ${count};\n")
file(WRITE ${OUTPUT}.tmp "${out}")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
