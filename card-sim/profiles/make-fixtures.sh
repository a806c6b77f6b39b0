#!/usr/bin/env bash
# Regenerates the TEST-ONLY fixtures of the card simulator: RSA-2048 keys, the test JPKI
# user-authentication CA, one user-authentication certificate per profile, and the greyscale
# JPEG 2000 face photos. Needs openssl, ImageMagick (convert) and opj_compress
# (Debian: openssl imagemagick libopenjp2-tools).
#
# NOTHING here is a real J-LIS key or certificate. Every issuer name says TEST.
# Existing keys are kept (delete keys/*.pem to rotate them); certificates and photos are remade.
set -euo pipefail
cd "$(dirname "$0")"
portraits=${PORTRAITS:-../../../shared/face-eval/portraits}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key() { # key NAME: RSA-2048, e = 65537, PKCS#8 PEM
  [ -f "keys/$1.pem" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "keys/$1.pem" 2>/dev/null
}

ca_dn() { # ca_dn WORD: issuer DN shaped like J-LIS's, clearly TEST
  echo "/C=JP/O=JPKI $1/OU=JPKI $1 for user authentication/OU=$1 Japan Agency for Local Authority Information Systems"
}

ca_db() { # ca_db NAME: openssl ca database and configuration of the CA NAME
  mkdir -p "$work/$1.db"; : > "$work/$1.db/index.txt"
  cat > "$work/$1.cnf" <<EOF
[ca]
default_ca = ca
[ca]
database = $work/$1.db/index.txt
new_certs_dir = $work/$1.db
serial = $work/$1.db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
EOF
  echo 01 > "$work/$1.db/serial"
}

ca_ext='basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash'

make_ca() { # make_ca NAME WORD [EXTENSIONS]: self-signed certs/NAME.der (a CA by default)
  key "$1"
  printf '%s\n' "${3:-$ca_ext}" > "$work/$1.ext"
  openssl req -new -key "keys/$1.pem" -subj "$(ca_dn "$2")" -out "$work/$1.csr"
  ca_db "$1"
  openssl ca -batch -config "$work/$1.cnf" -selfsign -keyfile "keys/$1.pem" -in "$work/$1.csr" \
    -startdate 20230716000000Z -enddate 20330715235959Z -extfile "$work/$1.ext" \
    -preserveDN -notext -out "$work/$1.pem" 2>/dev/null
  openssl x509 -in "$work/$1.pem" -outform DER -out "certs/$1.der"
}

make_sub_ca() { # make_sub_ca NAME ISSUER SERIAL WORD EXTENSIONS: certs/NAME.der issued by ISSUER
  key "$1"
  printf '%s\nauthorityKeyIdentifier = keyid\n' "$5" > "$work/$1.ext"
  openssl req -new -key "keys/$1.pem" -subj "$(ca_dn "$4")" -out "$work/$1.csr"
  ca_db "$1"
  echo "$3" > "$work/$2.db/serial"
  openssl ca -batch -config "$work/$2.cnf" -cert "$work/$2.pem" -keyfile "keys/$2.pem" \
    -in "$work/$1.csr" -startdate 20230716000000Z -enddate 20330715235959Z \
    -extfile "$work/$1.ext" -preserveDN -notext -out "$work/$1.pem" 2>/dev/null
  openssl x509 -in "$work/$1.pem" -outform DER -out "certs/$1.der"
}

issue() { # issue PROFILE CA SERIAL NOT_BEFORE NOT_AFTER CN: certs/auth-PROFILE.der
  key "auth-$1"
  cat > "$work/ee.ext" <<EOF
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  openssl req -new -key "keys/auth-$1.pem" -subj "/C=JP/CN=$6" -out "$work/ee.csr"
  echo "$3" > "$work/$2.db/serial"
  openssl ca -batch -config "$work/$2.cnf" -cert "$work/$2.pem" -keyfile "keys/$2.pem" \
    -in "$work/ee.csr" -startdate "$4" -enddate "$5" -extfile "$work/ee.ext" \
    -preserveDN -notext -out "$work/ee.pem" 2>/dev/null
  openssl x509 -in "$work/ee.pem" -outform DER -out "certs/auth-$1.der"
}

make_ca user-ca TEST
make_ca untrusted-ca TEST-ROGUE
# Keys of the card-verifiable certificate chain (券面 APs): CA, the APs' record-signing keys,
# and the card keys published in the records (券面AP DF24 / EF 0001 DF12).
for k in cvc-ca kenmen-ap hojo-ap card-key; do key "$k"; done

valid_from=20250601000000Z valid_to=20300217235959Z
issue normal            user-ca      1001 $valid_from $valid_to TEST0000001NORMAL00SIM01
issue pin-1-try-left    user-ca      1002 $valid_from $valid_to TEST0000002PIN1LEFTSIM02
issue pin-locked        user-ca      1003 $valid_from $valid_to TEST0000003PINLOCKSIM03
issue face-card         user-ca      1004 $valid_from $valid_to TEST0000004FACECARDSIM04
issue expired-cert      user-ca      1005 20190501000000Z 20240217235959Z TEST0000005EXPIREDSIM05
issue untrusted-issuer  untrusted-ca 1006 $valid_from $valid_to TEST0000006UNTRUSTSIM06
issue no-photo          user-ca      1007 $valid_from $valid_to TEST0000007NOPHOTOSIM07
issue corrupt-tlv       user-ca      1008 $valid_from $valid_to TEST0000008CORRUPTSIM08
issue truncated-file    user-ca      1009 $valid_from $valid_to TEST0000009TRUNCATSIM09
issue foreign-resident  user-ca      100A $valid_from $valid_to TEST0000010FOREIGNSIM10
issue juki              user-ca      100B 20150601000000Z 20180531235959Z TEST0000011JUKICARDSIM11

# Longer chains, and certificates that must not serve as CAs (certificate checks, no profile):
# user-ca → intermediate-ca (pathlen 0) → auth-via-intermediate;
# user-ca → intermediate-ca → sub-intermediate-ca → auth-via-two-intermediates, which breaks
# the path length of intermediate-ca; not-a-ca and ca-without-keycertsign are self-signed,
# not-a-ca-intermediate is issued by user-ca.
make_sub_ca intermediate-ca user-ca 2001 TEST-INT1 "basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash"
make_sub_ca sub-intermediate-ca intermediate-ca 2002 TEST-INT2 "$ca_ext"
make_sub_ca not-a-ca-intermediate user-ca 2003 TEST-NOCA-I "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyCertSign
subjectKeyIdentifier = hash"
make_ca not-a-ca TEST-NOCA "basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash"
make_ca ca-without-keycertsign TEST-NOKCS "basicConstraints = critical, CA:TRUE
keyUsage = critical, cRLSign
subjectKeyIdentifier = hash"
issue via-intermediate      intermediate-ca     2101 $valid_from $valid_to TEST0000012INTERMEDSIM12
issue via-two-intermediates sub-intermediate-ca 2102 $valid_from $valid_to TEST0000013TWOINTERSIM13

# Greyscale JP2, 160 px wide: a head-and-shoulders crop (top centre, 4:5) like an ID photo.
photo() { # photo SOURCE NAME
  local w h
  read -r w h < <(identify -format '%w %h\n' "$portraits/$1" 2>/dev/null)
  w=$(( w * 7 / 10 )); h=$(( h < w * 5 / 4 ? h : w * 5 / 4 ))
  convert "$portraits/$1" -colorspace Gray -gravity North -crop "${w}x${h}+0+0" +repage \
    -resize 160x -depth 8 "$work/$2.pgm"
  opj_compress -i "$work/$2.pgm" -o "photos/$2.jp2" -r 8 >/dev/null
}
photo obama.jpg obama
photo biden.jpg biden
photo grace_hopper_512x512.jpg hopper
photo obama2.jpg obama2
ls -l certs photos
