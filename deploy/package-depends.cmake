# package-depends.cmake - run by cpack (CPACK_PROJECT_CONFIG_FILE, written by
# deploy/package.cmake): the package's Depends, from dpkg-shlibdeps on the
# programs RDEV_PACKAGE_PROGRAMS (not on the agent bundle's libraries, which
# are for the remote host), plus libcurl4 (loaded with dlopen).
file(REMOVE_RECURSE ${RDEV_PACKAGE_WORK})
file(WRITE ${RDEV_PACKAGE_WORK}/debian/control "Source: rdev\n\nPackage: rdev\nArchitecture: any\n")
execute_process(
  COMMAND dpkg-shlibdeps -O ${RDEV_PACKAGE_PROGRAMS}
  WORKING_DIRECTORY ${RDEV_PACKAGE_WORK}
  OUTPUT_VARIABLE rdev_shlibdeps
  ERROR_VARIABLE rdev_shlibdeps_err
  RESULT_VARIABLE rdev_shlibdeps_rc)
if(NOT rdev_shlibdeps_rc EQUAL 0)
  message(FATAL_ERROR "dpkg-shlibdeps failed (is dpkg-dev installed?):\n${rdev_shlibdeps_err}")
endif()
string(REGEX REPLACE "^shlibs:Depends=" "" rdev_shlibdeps "${rdev_shlibdeps}")
string(STRIP "${rdev_shlibdeps}" rdev_shlibdeps)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${rdev_shlibdeps}, libcurl4")
