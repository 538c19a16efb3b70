//! Reading one block from the node's database: its `System::Events` decoded with the metadata of the runtime
//! that executed it, its timestamp, and the messages that ship it.

pub mod compiled_record;
pub mod decode;
pub mod metadata;
pub mod reader;
pub mod storage;
