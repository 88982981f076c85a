# Every dependency comes from a Debian 12 package (scripts/install-deps.sh installs them).

# Debian's PocoDataPostgreSQLTargets.cmake links "PostgreSQL::client", which nothing defines.
find_package(PostgreSQL REQUIRED)
if(NOT TARGET PostgreSQL::client)
  add_library(PostgreSQL::client INTERFACE IMPORTED)
  target_link_libraries(PostgreSQL::client INTERFACE PostgreSQL::PostgreSQL)
endif()
find_package(Poco 1.11 REQUIRED COMPONENTS Foundation Net NetSSL Util JSON Data DataSQLite DataPostgreSQL Crypto)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)
# PoDoFo 0.9.8 ships only a .pc file, and its Version: is empty: no version constraint.
pkg_check_modules(PODOFO REQUIRED IMPORTED_TARGET libpodofo)
pkg_check_modules(QRENCODE REQUIRED IMPORTED_TARGET libqrencode)
# libdeflate compresses page content 2–3× faster than zlib and has no per-call set-up cost.
pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
# argon2id for the web UI's passwords (server/Auth.cpp).
pkg_check_modules(ARGON2 REQUIRED IMPORTED_TARGET libargon2)

find_path(KAINJOW_MUSTACHE_INCLUDE_DIR kainjow/mustache.hpp REQUIRED)
add_library(kainjow::mustache INTERFACE IMPORTED)
target_include_directories(kainjow::mustache SYSTEM INTERFACE ${KAINJOW_MUSTACHE_INCLUDE_DIR})

set(KOOPERDOC_FONT_DIR "/usr/share/fonts/truetype/dejavu" CACHE PATH "Directory with DejaVuSans.ttf and DejaVuSans-Bold.ttf")
set(KOOPERDOC_ICC_PROFILE "/usr/share/color/icc/sRGB.icc" CACHE FILEPATH "sRGB ICC profile for the PDF/A OutputIntent")
foreach(required_file ${KOOPERDOC_FONT_DIR}/DejaVuSans.ttf ${KOOPERDOC_FONT_DIR}/DejaVuSans-Bold.ttf ${KOOPERDOC_ICC_PROFILE})
  if(NOT EXISTS ${required_file})
    message(FATAL_ERROR "${required_file} is missing: run scripts/install-deps.sh")
  endif()
endforeach()
