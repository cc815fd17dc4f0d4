//! When a socket's bytes arrived, as the kernel saw them.
//!
//! The benchmark swarm runs thousands of tablets on the same two cores as
//! the server. When a tally goes to all of them at once, a tablet's task may
//! run a hundred milliseconds after its frame reached its socket, queued
//! behind its neighbours reading the same tally: a delay of the simulation,
//! which a hall of real tablets, each with its own processor, does not have.
//! The kernel's receive timestamp (`SO_TIMESTAMPNS`, Linux) says when the
//! bytes reached the tablet, whoever reads them later.
//!
//! [`Arrivals`] wraps the TCP stream under a tablet's WebSocket. Until
//! [`Arrivals::stamp`] is called it reads as the plain stream does; after,
//! every read asks the kernel for the arrival time of the bytes it returns
//! and keeps the latest, so a frame's arrival is [`Arrivals::last`] right
//! after the frame is read. A read that returns several frames gives each
//! the arrival of its last packet: never earlier than the truth.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream that can keep the kernel's arrival time of what it reads.
#[derive(Debug)]
pub struct Arrivals {
    tcp: TcpStream,
    stamping: bool,
    last: Option<SystemTime>,
}

impl Arrivals {
    pub fn new(tcp: TcpStream) -> Arrivals {
        Arrivals {
            tcp,
            stamping: false,
            last: None,
        }
    }

    /// Asks the kernel to timestamp the bytes arriving on this socket;
    /// reads from now on record when they arrived.
    pub fn stamp(&mut self) -> io::Result<()> {
        stamped::enable(&self.tcp)?;
        self.stamping = true;
        Ok(())
    }

    /// When the bytes of the latest read arrived (the last of its packets),
    /// once [`Arrivals::stamp`] has been called.
    pub fn last(&self) -> Option<SystemTime> {
        self.last
    }
}

impl AsyncRead for Arrivals {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.stamping {
            return Pin::new(&mut this.tcp).poll_read(cx, buf);
        }
        stamped::poll_read(&this.tcp, &mut this.last, cx, buf)
    }
}

impl AsyncWrite for Arrivals {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// Linux's receive timestamps: `SO_TIMESTAMPNS` on the socket, and reads by
/// `recvmsg`, whose control message carries the time.
#[cfg(target_os = "linux")]
mod stamped {
    use std::io;
    use std::mem::MaybeUninit;
    use std::os::fd::AsRawFd;
    use std::task::{Context, Poll, ready};
    use std::time::{Duration, SystemTime};
    use tokio::io::{Interest, ReadBuf};
    use tokio::net::TcpStream;

    pub(super) fn enable(tcp: &TcpStream) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: setsockopt reads an int of the size given from `on`.
        let rc = unsafe {
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                (&on as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    pub(super) fn poll_read(
        tcp: &TcpStream,
        last: &mut Option<SystemTime>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            // SAFETY: `receive` only writes bytes into the unfilled part, and
            // only the `n` it reports written are marked filled below.
            let unfilled = unsafe { buf.unfilled_mut() };
            match tcp.try_io(Interest::READABLE, || receive(tcp, unfilled)) {
                Ok((n, at)) => {
                    // SAFETY: recvmsg wrote these `n` bytes.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    if at.is_some() {
                        *last = at;
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// One `recvmsg` into `buf`: how many bytes, and when the last of them arrived.
    fn receive(
        tcp: &TcpStream,
        buf: &mut [MaybeUninit<u8>],
    ) -> io::Result<(usize, Option<SystemTime>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // Room for one timespec control message, aligned as cmsghdr needs.
        let mut control = [0u64; 8];
        // SAFETY: an all-zero msghdr is a valid empty one; the fields set
        // next point at `iov` and `control`, which outlive the call.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `msg` describes writable buffers of the lengths it gives.
        let n = unsafe { libc::recvmsg(tcp.as_raw_fd(), &mut msg, 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut at = None;
        // SAFETY: the CMSG macros walk the control buffer recvmsg filled, by
        // the length it set in `msg`; the timestamp is read unaligned.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
                {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    at = Some(
                        SystemTime::UNIX_EPOCH + Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32),
                    );
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok((n as usize, at))
    }
}

/// Elsewhere there are no receive timestamps to ask for.
#[cfg(not(target_os = "linux"))]
mod stamped {
    use std::io;
    use std::task::{Context, Poll};
    use std::time::SystemTime;
    use tokio::io::ReadBuf;
    use tokio::net::TcpStream;

    pub(super) fn enable(_: &TcpStream) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "receive timestamps need Linux's SO_TIMESTAMPNS",
        ))
    }

    pub(super) fn poll_read(
        _: &TcpStream,
        _: &mut Option<SystemTime>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        unreachable!("stamping is never enabled without Linux")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The time kept is when the bytes reached the socket (before the
    /// writer's call returned), not when they were read.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_read_keeps_when_its_bytes_arrived_not_when_they_were_read() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut reader = Arrivals::new(client.unwrap());
        reader.stamp().unwrap();
        let (mut writer, _) = accepted.unwrap();

        // The kernel turns its timestamping on for the whole machine a
        // moment after the first socket asks (deferred work): until then
        // reads come unstamped. Write until a read is stamped.
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut buf = [0u8; 16];
        loop {
            let before = SystemTime::now();
            writer.write_all(b"ballot").await.unwrap();
            let sent = SystemTime::now();
            let n = reader.read(&mut buf).await.unwrap();
            let read = SystemTime::now();
            assert_eq!(&buf[..n], b"ballot");
            if let Some(arrived) = reader.last() {
                assert!(arrived >= before, "{arrived:?} before the write began");
                // Read after the write returned, yet stamped no later than that.
                assert!(arrived <= sent, "{arrived:?} after the write returned");
                assert!(read > sent);
                break;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "no read was stamped in 10 s"
            );
        }
    }

    #[tokio::test]
    async fn without_stamping_reads_are_plain_and_keep_no_time() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        let mut reader = Arrivals::new(client.unwrap());
        accepted.unwrap().0.write_all(b"tally").await.unwrap();
        let mut buf = [0u8; 16];
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"tally");
        assert_eq!(reader.last(), None);
    }
}
