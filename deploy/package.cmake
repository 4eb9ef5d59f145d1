# package.cmake - the Debian package (`cmake --build BUILD --target package`:
# BUILD/rdev_<version>_<arch>.deb) and what it installs besides the programs
# and the agent bundle (CMakeLists.txt): manual pages written by the programs
# themselves (`PROG help --man`, common/cmd-man.c: the same text as --help),
# bash and zsh completion (deploy/completion/: they ask `PROG help
# --complete`, common/cmd-complete.c), and the systemd user unit of the
# broker (deploy/systemd/). Make it from a Release build (-DCMAKE_BUILD_TYPE=
# Release): the programs are installed as built. Not from a sanitizer build
# (the agent bundle is left out there).

set(RDEV_MAN_DIR ${CMAKE_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${RDEV_MAN_DIR})
set(RDEV_MAN_PAGES)
foreach(prog rdev rdev-broker rdev-agent)
  add_custom_command(
    OUTPUT ${RDEV_MAN_DIR}/${prog}.1
    COMMAND $<TARGET_FILE:${prog}> help --man > ${RDEV_MAN_DIR}/${prog}.1
    DEPENDS ${prog}
    COMMENT "Writing the manual page ${prog}(1)")
  list(APPEND RDEV_MAN_PAGES ${RDEV_MAN_DIR}/${prog}.1)
endforeach()
add_custom_target(man-pages ALL DEPENDS ${RDEV_MAN_PAGES})
install(FILES ${RDEV_MAN_PAGES} DESTINATION share/man/man1)

install(FILES ${CMAKE_SOURCE_DIR}/deploy/completion/rdev.bash
        DESTINATION share/bash-completion/completions RENAME rdev)
foreach(alias rdev-broker rdev-agent)
  # (bash-completion loads completions/NAME for command NAME)
  install(CODE "file(CREATE_LINK rdev
    \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/share/bash-completion/completions/${alias}
    SYMBOLIC)")
endforeach()
install(FILES ${CMAKE_SOURCE_DIR}/deploy/completion/_rdev
        DESTINATION share/zsh/vendor-completions)

# (written at install time: `make install` and the package have different
# prefixes)
install(CODE "set(RDEV_INSTALL_BINDIR \${CMAKE_INSTALL_PREFIX}/bin)
  configure_file(${CMAKE_SOURCE_DIR}/deploy/systemd/rdev-broker.service.in
    \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/user/rdev-broker.service @ONLY)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_NAME rdev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "rdev developers <rdev-dev@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "work inside dev containers on remote Docker hosts over SSH")
set(CPACK_PACKAGE_DESCRIPTION
    "rdev finds a project's devcontainer.json on a Docker host reached over SSH,
builds or pulls the image (or runs Docker Compose), creates the container, runs
the lifecycle commands, forwards forwardPorts to localhost and streams exec and
shell sessions back. It follows the Development Container Specification.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://containers.dev")
# Depends: what the programs link, by dpkg-shlibdeps on them alone
# (deploy/package-depends.cmake, run by cpack; CPack's own SHLIBDEPS would
# also count the agent bundle's libraries, which are for the remote host);
# plus libcurl4, which rdev and rdev-agent load with dlopen (CMakeLists.txt)
# for Feature downloads, so shlibdeps cannot see it.
set(RDEV_PACKAGE_PROGRAMS $<TARGET_FILE:rdev> $<TARGET_FILE:rdev-broker>
    $<TARGET_FILE:rdev-agent>)
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/CPackRdevProject.cmake CONTENT
"set(RDEV_PACKAGE_PROGRAMS \"${RDEV_PACKAGE_PROGRAMS}\")
set(RDEV_PACKAGE_WORK \"${CMAKE_BINARY_DIR}/package-depends\")
include(\"${CMAKE_SOURCE_DIR}/deploy/package-depends.cmake\")
")
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_BINARY_DIR}/CPackRdevProject.cmake)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "docker.io, docker-compose")
include(CPack)
