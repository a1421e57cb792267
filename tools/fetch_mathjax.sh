#!/usr/bin/env bash
# Fetch MathJax 3 from the npm registry and lay it out where the book publishes it.
#
# The site must render maths offline, so MathJax is served by the site itself, not by a CDN.
# `_config.yml` lists `_extra` in `html_extra_path`: Sphinx copies its content to the site root,
# so this script's `_extra/mathjax/tex-chtml.js` becomes `<site>/mathjax/tex-chtml.js`.
# `_extra/` is a build artefact (it carries its own .gitignore): never commit it.
#
# Usage (from anywhere):  bash tools/fetch_mathjax.sh
# Idempotent: returns at once when the pinned version is already in place.
set -euo pipefail

VERSION="3.2.2"
SHA256="1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"  # mathjax-3.2.2.tgz

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/_extra/mathjax"

if [[ -f "$DEST/tex-chtml.js" && "$(cat "$DEST/.version" 2>/dev/null)" == "$VERSION" ]]; then
    exit 0
fi

command -v npm >/dev/null || { echo "fetch_mathjax: npm is required (apt-get install -y npm)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "mathjax@$VERSION" >/dev/null)
echo "$SHA256  $TMP/mathjax-$VERSION.tgz" | sha256sum --check --quiet -
tar -xzf "$TMP/mathjax-$VERSION.tgz" -C "$TMP"

# Keep the CommonHTML bundle and the components it may load lazily (TeX extensions, fonts,
# menu, accessibility); drop the SVG and MathML-only bundles the site never loads.
rm -rf "$DEST"
mkdir -p "$DEST"
cp -r "$TMP/package/es5/." "$DEST/"
rm -rf "$DEST/output/svg" "$DEST/output/svg.js" "$DEST/node-main.js" \
       "$DEST"/*svg*.js "$DEST"/mml-*.js "$DEST/tex-chtml-full-speech.js"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
printf '*\n' > "$ROOT/_extra/.gitignore"
echo "$VERSION" > "$DEST/.version"
echo "fetch_mathjax: MathJax $VERSION installed in ${DEST#"$ROOT"/}"
