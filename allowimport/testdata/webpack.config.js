const path = require('path');
const HtmlWebpackPlugin = require('html-webpack-plugin');

module.exports = {
  mode: 'development',
  entry: './src/index.js',
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].[contenthash].js',
  },
  plugins: [new HtmlWebpackPlugin({ title: 'Dashboard' })],
  devServer: {
    static: { directory: path.join(__dirname, 'public') },
    host: '0.0.0.0',
    port: 8080,
    hot: true,
    allowedHosts: [
      'host.com',
      '.host2.com',
      'subdomain.host.com:8080', // never matches: the port is not compared
    ],
    proxy: [{ context: ['/api'], target: 'http://localhost:3000' }],
  },
};
