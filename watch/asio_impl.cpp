// The one translation unit that compiles Boost.Asio, Asio's SSL layer and Boost.Beast.
// Every other file is built with BOOST_ASIO_SEPARATE_COMPILATION and
// BOOST_BEAST_SEPARATE_COMPILATION, so they only see declarations: this keeps a clean
// build on two cores to minutes rather than tens of minutes.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
