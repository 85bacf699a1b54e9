"""Dataset file helpers (``torchvision.datasets.utils``): MD5 checks, downloads, argument checks.

Downloads stream into a temporary file beside the destination, check the MD5 and only then
``os.replace`` it into place, so a failed or corrupt download never leaves a partial file under
the real name. A progress bar is shown with tqdm when it is installed.
"""

import hashlib
import os
import sys
import tempfile
import urllib.request

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "verify_str_arg",
           "DatasetFileError"]


class DatasetFileError(RuntimeError):
    """A dataset file is corrupt, truncated or not what its name says (a ``RuntimeError``)."""


class _Corrupt(Exception):
    """Internal: what is wrong with a file; turned into a :class:`DatasetFileError` naming it."""


def calculate_md5(fpath, chunk_size=1024 * 1024):
    """The MD5 hex digest of the file ``fpath`` (read in chunks of ``chunk_size`` bytes)."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    """True if the file's MD5 is ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """True if ``fpath`` is a file and (when ``md5`` is given) has that MD5 (torchvision's)."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """Check that ``value`` is a str among ``valid_values`` (torchvision's helper).

    Raises:
        ValueError: ``value`` is not a str, or not one of ``valid_values``.
    """
    if not isinstance(value, str):
        raise ValueError(f"Expected type str for argument {arg}, but got type {type(value).__name__}.")
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are "
                     f"{{{', '.join(repr(v) for v in valid_values)}}}.")


def _progress(total, desc):
    """A tqdm bar when tqdm is installed and stderr is a terminal, else None."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr,
                disable=not sys.stderr.isatty())


def _download_file(url, dest, md5, timeout=60.0):
    """Fetch ``url`` into ``dest``, checking ``md5`` (None: no check) before the rename.

    Raises:
        urllib.error.URLError / OSError / http.client.HTTPException: network or HTTP failure.
        _Corrupt: MD5 mismatch. Nothing is left behind on any failure.
    """
    directory = os.path.dirname(dest) or "."
    print(f"Downloading {url}", file=sys.stderr)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(dest) + ".",
                               suffix=".part")
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            bar = _progress(int(length) if length and length.isdigit() else None,
                            os.path.basename(dest))
            try:
                while chunk := resp.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if md5 is not None and got != md5:
            raise _Corrupt(f"MD5 mismatch: got {got}, expected {md5} (corrupt or wrong file)")
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def download_url(url, root, filename=None, md5=None, max_redirect_hops=3, timeout=60.0):
    """Download ``url`` into ``root/filename`` unless a file with that MD5 is already there.

    Args:
        url (str): the URL. root (str or os.PathLike): the directory (created if needed).
        filename (str, optional): the file name (default: the URL's last component).
        md5 (str, optional): the expected MD5; the download is refused if it differs.
        max_redirect_hops (int): accepted for torchvision compatibility (urllib follows
            redirects itself).

    Raises:
        RuntimeError: the download failed (no network, HTTP error) or the MD5 differs; the
            message names the URL and says to copy the file into ``root`` instead.
    """
    import http.client
    import urllib.error

    root = os.path.expanduser(os.fspath(root))
    filename = os.fspath(filename) if filename else os.path.basename(url)
    fpath = os.path.join(root, filename)
    if check_integrity(fpath, md5):
        return
    os.makedirs(root, exist_ok=True)
    try:
        _download_file(url, fpath, md5, timeout=timeout)
    except (OSError, ValueError, http.client.HTTPException, _Corrupt) as e:
        reason = getattr(e, "reason", None) if isinstance(e, urllib.error.URLError) else None
        raise RuntimeError(f"download_url: could not download {url}: "
                           f"{reason if reason is not None else e}. Without network access, "
                           f"copy {filename} into {root}.") from None
