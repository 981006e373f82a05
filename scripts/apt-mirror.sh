# Sourced by scripts that debootstrap (kea-root.sh, images.sh): the Debian
# archive this machine's own apt uses, so that no mirror's host name is
# written in this repository.
#
# apt_mirror prints the first source (deb822 .sources or one-line .list)
# whose URI ends in /debian; KEA_ROOT_MIRROR overrides it.
apt_mirror() {
  if [[ -n ${KEA_ROOT_MIRROR:-} ]]; then
    echo "${KEA_ROOT_MIRROR%/}"
    return
  fi
  local uri
  uri=$( {
      grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{ for (i = 2; i <= NF; i++) print $i }'
      grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
        sed 's/\[[^]]*\]//' | awk '{ print $2 }'
    } | grep -E '/debian/?$' | head -n 1)
  if [[ -z $uri ]]; then
    echo "no Debian archive in this machine's apt sources: set KEA_ROOT_MIRROR" >&2
    return 1
  fi
  echo "${uri%/}"
}
